// The keeper's options work on one market each tick (docs/options.md, "The keeper"), with the tick's
// reconciled range: settle every expired strategy (oldest expiry first, at most STRATEGY_BATCH a
// tick) with the tick's attestation; liquidate the uncovered strategies below their maintenance
// scenario margin at the range's price best for them (the engine's rule, in relayer/margin/options);
// then send the RELEASEs and SEIZEs they queued. Every call is simulated first and what would revert
// is not sent, with the engine's reason. Finally the volatility: a sample of the median, and σ posted
// when it moved enough. Without an agreeing quorum nothing is settled, liquidated or sampled.
import type { Result } from 'ethers';
import { abiFunction } from '../chains/abiFunction.js';
import type { ChainClient, Receipt } from '../chains/client.js';
import { isExecutionFailure, RpcResponseError } from '../chains/rpc.js';
import { revertDataOf, TxRevertedError, type TxSender } from '../chains/tx/sender.js';
import { accountFromEngine } from '../liquidation/engineAccount.js';
import { engineIface, engineRevertReason } from '../liquidation/engineAbi.js';
import type { QueuedSettlements } from '../liquidation/queuedSettlements.js';
import { attestationArg, type AttestationOutcome, type AttestedRange } from '../liquidation/rangeAttester.js';
import { liquidationPrice, scenarioLoss, type ScenarioParams } from '../margin/options.js';
import type { ReconciledPrice } from '../oracle/reconcile.js';
import type { EventBus } from '../pipeline/events.js';
import { readOptionsConfig } from './engineReads.js';
import type { OpenStrategy, StrategyBook } from './strategyBook.js';
import type { VolatilityTracker } from './volatilityTracker.js';

const accountOfFn = abiFunction(engineIface, 'accountOf');
const settleExpiredFn = abiFunction(engineIface, 'settleExpired');
const liquidateStrategyFn = abiFunction(engineIface, 'liquidateStrategy');
const setVolatilityFn = abiFunction(engineIface, 'setVolatility');
const STRATEGY_SETTLED = engineIface.getEvent('StrategySettled')?.topicHash as string; // the events are in the ABI
const STRATEGY_LIQUIDATED = engineIface.getEvent('StrategyLiquidated')?.topicHash as string;
/** Settlements and strategy liquidations sent per market and tick (one transaction each, sent together); the rest wait a tick. */
export const STRATEGY_BATCH = 20;

/** A market's options config as the keeper needs it (σ and bounds 1e18, seconds). */
export interface OptionsMarketConfig {
  sigma: bigint;
  volMin: bigint;
  volMax: bigint;
  /** The most the keeper may move σ in one post (bps of σ; 0: no limit), and the least time between its posts. */
  maxVolStepBps: bigint;
  minVolInterval: bigint;
  settleWindow: bigint;
  maintenance: ScenarioParams;
}

/** One market's tick as the keeper hands it over. */
export interface OptionsMarketTick {
  name: string;
  id: string;
  /** The agreeing range, or null without an agreeing quorum. */
  range: ReconciledPrice | null;
  /** The engine chain's clock at the readings (seconds): the attestation's timestamp. */
  clock: bigint;
  /** The market's options config as the tick read it (readConfig), or null when it has none. */
  config: OptionsMarketConfig | null;
  /** The tick's attestation of the range, asked for once, when something needs it. */
  attestation(): Promise<AttestationOutcome>;
}

export interface StrategyRefusal {
  positionKey: string;
  action: 'settle' | 'liquidate';
  reason: string;
}

export interface VolatilityTick {
  /** The median taken (the first seeds the estimate with the engine's σ²), or null when too soon after the last. */
  sample: { price: bigint; at: bigint } | null;
  variance: bigint;
  /** √variance, before clamping. */
  estimate: bigint;
  /** σ on the engine before this tick's post. */
  engineSigma: bigint;
  posted: bigint | null;
  /** Why σ was not posted, when it was not. */
  why?: string;
}

export interface OptionsTickResult {
  /** The market has an options config on the engine (volMax > 0). */
  configured: boolean;
  sigma: bigint | null;
  /** Open strategies and, of them, the expired ones at the tick's clock (before this tick's settlements). */
  strategies: number;
  due: number;
  settled: string[];
  liquidated: string[];
  refused: StrategyRefusal[];
  volatility: VolatilityTick | null;
}

export interface OptionsKeeperOptions {
  client: ChainClient;
  sender: TxSender;
  engine: string;
  events: EventBus;
  book: StrategyBook;
  /** Null when keeper.volatility is off. */
  volatility: VolatilityTracker | null;
  queued: QueuedSettlements;
  leases: () => { leases?: string[] };
}

export class OptionsKeeper {
  constructor(private readonly o: OptionsKeeperOptions) {}

  /** The market's options config on the engine, or null when it has none (volMax 0). */
  async readConfig(marketId: string): Promise<OptionsMarketConfig | null> {
    const c = await readOptionsConfig(this.o.client, this.o.engine, marketId);
    if (c.volMax === 0n) return null;
    return {
      sigma: c.sigma, volMin: c.volMin, volMax: c.volMax, settleWindow: c.settleWindow, maxVolStepBps: c.maxVolStepBps, minVolInterval: c.minVolInterval,
      maintenance: { shockBps: c.maintenanceScenarioBps, volShockBps: c.volShockBps, steps: c.scenarioSteps },
    };
  }

  /** Expired strategies of a market at `at` that nobody settled yet (for a tick without a price). */
  due(marketId: string, at: bigint): number {
    return this.o.book.expired(marketId, at).length;
  }

  async tick(m: OptionsMarketTick): Promise<OptionsTickResult> {
    const strategies = this.o.book.count(m.id);
    const expired = this.o.book.expired(m.id, m.clock);
    const config = m.config;
    const result: OptionsTickResult = {
      configured: config !== null, sigma: config?.sigma ?? null, strategies, due: expired.length, settled: [], liquidated: [], refused: [], volatility: null,
    };
    if (m.range === null) return result;
    const range = m.range;
    const breached = config === null ? [] : await this.breached(m.id, range, config, m.clock);
    const work = [
      ...expired.slice(0, STRATEGY_BATCH).map((s) => ({ s, action: 'settle' as const })),
      ...breached.slice(0, Math.max(0, STRATEGY_BATCH - expired.length)).map((s) => ({ s, action: 'liquidate' as const })),
    ];
    if (work.length > 0) await this.settleAndLiquidate(m, work, config, result);
    if (config !== null && this.o.volatility !== null) result.volatility = await this.volatility(m, range, config);
    return result;
  }

  /** With the tick's attestation: every settlement and liquidation at once, then what they queued in one send. */
  private async settleAndLiquidate(m: OptionsMarketTick, work: { s: OpenStrategy; action: 'settle' | 'liquidate' }[], config: OptionsMarketConfig | null, result: OptionsTickResult): Promise<void> {
    const outcome = await m.attestation();
    if (!outcome.ok) {
      for (const { s, action } of work) result.refused.push({ positionKey: s.positionKey, action, reason: outcome.reason });
      this.o.events.emit({ type: 'keeper.strategy', action: work[0]?.action ?? 'settle', market: m.name, positionKey: '', ok: false, reason: outcome.reason });
      return;
    }
    const sent = await Promise.allSettled(work.map(({ s, action }) => this.send(m, s, action, outcome.attested, config)));
    const receipts: Receipt[] = [];
    sent.forEach((r, i) => {
      const { s, action } = work[i] as (typeof work)[number];
      if (r.status === 'rejected') return;
      if (r.value.receipt !== undefined) receipts.push(r.value.receipt);
      if (r.value.done) (action === 'settle' ? result.settled : result.liquidated).push(s.positionKey);
      else result.refused.push({ positionKey: s.positionKey, action, reason: r.value.reason ?? '?' });
    });
    // What was mined is delivered even when another send of the tick failed.
    await this.o.queued.sendFrom(receipts.flatMap((r) => r.logs));
    const failed = sent.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /**
   * The market's uncovered strategies whose margin is below the maintenance scenario margin at the
   * range's conservative price — the one best for the trader (EngineOptions._liquidationPrice), as a
   * long perpetual is judged at `high` — exactly as _requireStrategyBreach decides it, with
   * T = expiry − clock (the chain's T is a few seconds less: its simulation is the final word).
   */
  private async breached(marketId: string, range: ReconciledPrice, c: OptionsMarketConfig, clock: bigint): Promise<OpenStrategy[]> {
    const watched = this.o.book.uncovered(marketId, clock);
    if (watched.length === 0) return [];
    const raws = await this.o.client.calls(watched.map((s) => ({ to: this.o.engine, data: accountOfFn.encode([s.positionKey]) })));
    return watched.filter((s, i) => {
      const a = accountFromEngine(accountOfFn.decode(raws[i] as string)[0] as Result);
      // collateral − fees of the engine's account is collateral + realized PnL − fees: the premium is added back.
      const margin = a.collateral.amount - a.fees + s.premium;
      const t = s.expiry - clock;
      const price = liquidationPrice(s.legs, range.low, range.high, c.sigma, t);
      return margin < scenarioLoss(s.legs, s.premium, price, c.sigma, t, c.maintenance);
    });
  }

  /** Simulates, then sends, one settlement or liquidation; its events; whether the engine did it. */
  private async send(m: OptionsMarketTick, s: OpenStrategy, action: 'settle' | 'liquidate', attested: AttestedRange, config: OptionsMarketConfig | null): Promise<{ done: boolean; receipt?: Receipt; reason?: string }> {
    const fn = action === 'settle' ? settleExpiredFn : liquidateStrategyFn;
    const data = fn.encode([s.positionKey, attestationArg(attested.attestation), attested.signatures]);
    const base = { type: 'keeper.strategy' as const, action, market: m.name, positionKey: s.positionKey };
    const refused = (reason: string, tx?: string) => {
      this.o.events.emit({ ...base, ok: false, reason, ...(tx === undefined ? {} : { tx }) });
      return { done: false, reason };
    };
    const simulated = await this.simulate(data);
    if (simulated !== null) return refused(simulated);
    let receipt: Receipt;
    try {
      receipt = await this.o.sender.submit({ to: this.o.engine, data, purpose: action === 'settle' ? 'settleExpired' : 'liquidateStrategy', messages: [], ...this.o.leases() });
    } catch (e) {
      if (!(e instanceof TxRevertedError)) throw e;
      return refused(engineRevertReason(e.revertData));
    }
    if (receipt.status !== 1) return { ...refused('reverted on chain', receipt.transactionHash), receipt };
    const topic = action === 'settle' ? STRATEGY_SETTLED : STRATEGY_LIQUIDATED;
    const log = receipt.logs.find((l) => l.address.toLowerCase() === this.o.engine.toLowerCase() && l.topics[0] === topic);
    const parsed = log === undefined ? null : engineIface.parseLog({ topics: [...log.topics], data: log.data });
    this.o.book.apply(s.positionKey, null);
    const late = action === 'settle' && config !== null && attested.attestation.timestamp > s.expiry + config.settleWindow;
    this.o.events.emit({
      ...base, ok: true, tx: receipt.transactionHash, ...(late ? { late: true } : {}),
      ...(parsed === null ? {} : { price: parsed.args.getValue('price') as bigint }),
      ...(parsed === null ? {} : action === 'settle' ? { payoff: parsed.args.getValue('payoff') as bigint } : { value: parsed.args.getValue('value') as bigint, penalty: parsed.args.getValue('penalty') as bigint }),
    });
    return { done: true, receipt };
  }

  /** An eth_call of the transaction from the keeper's address: null when it would succeed, else the engine's reason. */
  private async simulate(data: string): Promise<string | null> {
    try {
      await this.o.client.call(this.o.engine, data, this.o.sender.address);
      return null;
    } catch (e) {
      if (e instanceof RpcResponseError && isExecutionFailure(e)) return engineRevertReason(revertDataOf(e));
      throw e; // the node could not run it: no verdict on the call
    }
  }

  /** Samples the median; posts σ (simulated first) when the tracker says it is worth it. */
  private async volatility(m: OptionsMarketTick, range: ReconciledPrice, c: OptionsMarketConfig): Promise<VolatilityTick> {
    const tracker = this.o.volatility as VolatilityTracker;
    const { taken, estimate } = tracker.sample(m.name, range.median, m.clock, c.sigma);
    const tick: VolatilityTick = {
      sample: taken ? { price: estimate.price, at: estimate.at } : null, variance: estimate.variance, estimate: estimate.sigma, engineSigma: c.sigma, posted: null,
    };
    const proposal = tracker.proposal(m.name, c.sigma, c, m.clock);
    if (proposal === null || !proposal.post) return { ...tick, ...(proposal === null ? {} : { why: proposal.why }) };
    const event = { type: 'keeper.volatility' as const, market: m.name, sigma: proposal.sigma, previous: c.sigma, variance: estimate.variance };
    const data = setVolatilityFn.encode([m.id, proposal.sigma]);
    // The interval runs from an attempt, taken or refused: a key that is not the vol updater (NotVolUpdater) warns once an interval, not every tick.
    tracker.posted(m.name, m.clock);
    const simulated = await this.simulate(data);
    if (simulated !== null) {
      this.o.events.emit({ ...event, ok: false, reason: simulated });
      return { ...tick, why: simulated };
    }
    try {
      const receipt = await this.o.sender.submit({ to: this.o.engine, data, purpose: 'setVolatility', messages: [], ...this.o.leases() });
      this.o.events.emit({ ...event, ok: receipt.status === 1, tx: receipt.transactionHash, ...(receipt.status === 1 ? {} : { reason: 'reverted on chain' }) });
      if (receipt.status !== 1) return { ...tick, why: 'reverted on chain' };
    } catch (e) {
      if (!(e instanceof TxRevertedError)) throw e;
      const reason = engineRevertReason(e.revertData);
      this.o.events.emit({ ...event, ok: false, reason });
      return { ...tick, why: reason };
    }
    return { ...tick, posted: proposal.sigma };
  }
}
