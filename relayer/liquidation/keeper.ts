// The liquidation keeper (DESIGN, Liquidation 1–4). Per market, longs and shorts are indexed by
// liquidation price, kept current from the engine's PositionChanged events (each changed position
// is read again from the engine: its state is the truth). On every tick: reconcile the market's
// feeds on every chain; no agreeing quorum → nobody is liquidated. Otherwise the candidates at the
// conservative end of the range (longs at `high`, shorts at `low`) come from the index in
// O(log n + k) and are re-checked exactly with fresh engine state; one attestation of the range
// (the attesters' EIP-712 signatures) then serves them all, sent in batches to `liquidateMany`,
// and the SEIZEs they queue are sent at once, the keeper paying their fees. The engine checks it
// all again on chain. The market's options strategies (settled at expiry, the uncovered liquidated,
// its volatility posted) are relayer/options/optionsKeeper.ts's, with the same range and attestation;
// the index follows the engine's maintenance rate, which moves with the posted volatility. Last, the
// settlements anyone queued and nobody sent (a refunded CREDIT's RELEASE) are sent: pendingSettlements.ts.
import { id, type Result, type Wallet } from 'ethers';
import { abiFunction } from '../chains/abiFunction.js';
import type { ChainClient, Log } from '../chains/client.js';
import { TxRevertedError, type TxSender } from '../chains/tx/sender.js';
import type { Config } from '../config/schema.js';
import { errorSummary } from '../errors/base.js';
import { redactText } from '../errors/redact.js';
import { isLiquidatable, liquidationPrice, Side, type IsolatedAccount } from '../margin/index.js';
import type { MarketPrices, PriceService } from '../oracle/priceService.js';
import type { ReconciledPrice } from '../oracle/reconcile.js';
import { OptionsKeeper, type OptionsTickResult } from '../options/optionsKeeper.js';
import { STRATEGY_TOPICS, StrategyBook } from '../options/strategyBook.js';
import { VolatilityTracker } from '../options/volatilityTracker.js';
import type { EventBus } from '../pipeline/events.js';
import type { RemoteAttester } from './remoteAttesters.js';
import { accountFromEngine } from './engineAccount.js';
import { engineIface, engineRevertReason } from './engineAbi.js';
import { PositionIndex } from './positionIndex.js';
import { PendingSettlements } from './pendingSettlements.js';
import { QueuedSettlements, SETTLEMENT_QUEUED } from './queuedSettlements.js';
import { attestationArg, RangeAttester, type AttestationOutcome, type AttestedRange } from './rangeAttester.js';
import { marketTickSummary, type KeeperMarketTick } from './tickSummary.js';

const accountOf = abiFunction(engineIface, 'accountOf');
const positionOf = abiFunction(engineIface, 'positionOf');
const marketOfFn = abiFunction(engineIface, 'marketOf');
const maintenanceRateFn = abiFunction(engineIface, 'maintenanceRate');
const attestationsFn = abiFunction(engineIface, 'attestations');
const liquidateManyFn = abiFunction(engineIface, 'liquidateMany');
const POSITION_CHANGED = engineIface.getEvent('PositionChanged')?.topicHash as string;
const POSITION_LIQUIDATED = engineIface.getEvent('PositionLiquidated')?.topicHash as string;
const POSITION_PARTIALLY_LIQUIDATED = engineIface.getEvent('PositionPartiallyLiquidated')?.topicHash as string;
/** Positions per liquidateMany transaction (each costs about 60k gas): well inside a block. */
export const LIQUIDATION_BATCH = 100;
/** Positions read again per batched request when the maintenance rate moves. */
const REKEY_BATCH = 250;
const badDebtFn = abiFunction(engineIface, 'badDebt');


interface MarketBook {
  name: string;
  id: string;
  /** The engine's maintenanceRate(market) now: mmr, scaled by σ when the options config sets a sigmaRef. */
  mmr: bigint;
  imr: bigint;
  longs: PositionIndex;
  shorts: PositionIndex;
}

export interface KeeperOptions {
  config: Config;
  client: (chain: string) => ChainClient;
  /** The relayer key's sender on the engine's chain (shared with deliveries: one writer per key). */
  sender: TxSender;
  /** Attester keys this keeper signs with itself (none when every attester runs in its own process). */
  attesters: readonly Wallet[];
  /** Attesters in their own processes, asked for their signatures (keeper.remoteAttesters). */
  remoteAttesters?: readonly RemoteAttester[];
  prices: PriceService;
  events: EventBus;
  /** The named lease this keeper's transactions are sent under (one keeper among instances); none alone. */
  lease?: string;
}

export interface KeeperTickResult {
  market: string;
  range: ReconciledPrice | null;
  candidates: string[];
  /** Closed whole. */
  liquidated: string[];
  /** Brought back above maintenance by a partial close: still open. */
  reduced?: string[];
  /** The market's options strategies this tick: settled, liquidated, refused, and the volatility. */
  options?: OptionsTickResult;
  /** Positions read again and re-indexed because the maintenance rate moved. */
  rekeyed?: number;
}

export class Keeper {
  /** The lease every transaction of this keeper is signed under, if it shares the work with other instances. */
  private leases(): { leases?: string[] } {
    return this.o.lease === undefined ? {} : { leases: [this.o.lease] };
  }

  private readonly engine: string;
  private readonly chain: string;
  private readonly books = new Map<string, MarketBook>();
  private scannedTo: bigint;
  private attester: RangeAttester | undefined;
  private readonly queued: QueuedSettlements;
  /** The engine's queue as this keeper follows it (keeper.sendQueued); null when off. */
  private readonly pending: PendingSettlements | null;
  private readonly strategies = new StrategyBook();
  private readonly options: OptionsKeeper;
  /** Per market, the prices its last tick read (kept for `lastTick`). */
  private readonly lastPrices = new Map<string, { prices: MarketPrices; at: number; indexed: number }>();
  private readonly lastTicks = new Map<string, KeeperMarketTick>();
  private lastFailure: { at: number; error: string } | null = null;

  constructor(private readonly o: KeeperOptions) {
    const k = o.config.keeper;
    if (k === undefined) throw new Error('the config has no keeper section');
    const engine = o.config.chains[k.chain]?.engine;
    if (engine === undefined) throw new Error(`chain ${k.chain} has no engine`);
    this.engine = engine;
    this.chain = k.chain;
    this.scannedTo = BigInt(o.config.chains[k.chain]?.startBlock ?? 0) - 1n;
    const client = o.client(k.chain);
    const leases = () => this.leases();
    const chainName = (chainId: bigint) => Object.entries(o.config.chains).find(([, c]) => BigInt(c.chainId) === chainId)?.[0] ?? `chain ${chainId}`;
    this.queued = new QueuedSettlements({ client, sender: o.sender, engine, events: o.events, chainName, leases });
    this.pending = k.sendQueued.enabled
      ? new PendingSettlements({ client, engine, chain: k.chain, queued: this.queued, events: o.events, chainName, graceMs: k.sendQueued.graceSeconds * 1000 })
      : null;
    const vol = k.volatility;
    this.options = new OptionsKeeper({
      client, sender: o.sender, engine, events: o.events, book: this.strategies, queued: this.queued, leases,
      volatility: vol.enabled ? new VolatilityTracker(vol) : null,
    });
  }

  /** Number of indexed positions across markets. */
  get indexed(): number {
    let n = 0;
    for (const b of this.books.values()) n += b.longs.size + b.shorts.size;
    return n;
  }

  /** Reads each configured market's rates from the engine (once). */
  private async loadMarkets(): Promise<void> {
    if (this.books.size > 0) return;
    const client = this.o.client(this.chain);
    for (const name of Object.keys(this.o.config.markets)) {
      const marketId = id(name);
      const [marketRaw, rateRaw] = await client.calls([
        { to: this.engine, data: marketOfFn.encode([marketId]) },
        { to: this.engine, data: maintenanceRateFn.encode([marketId]) },
      ]);
      const m = marketOfFn.decode(marketRaw as string)[0] as Result;
      if (m.getValue('enabled') !== true) continue; // a market the engine does not trade has no positions to watch
      const mmr = maintenanceRateFn.decode(rateRaw as string)[0] as bigint;
      this.books.set(marketId, { name, id: marketId, imr: m.getValue('imr') as bigint, mmr, longs: new PositionIndex(), shorts: new PositionIndex() });
    }
    const k = this.o.config.keeper;
    this.attester = new RangeAttester({
      client, attestations: attestationsFn.decode(await client.call(this.engine, attestationsFn.encode([])))[0] as string, chainId: BigInt(client.config.chainId),
      chainIds: (chain) => BigInt(this.o.config.chains[chain]?.chainId ?? 0),
      attesters: this.o.attesters, remoteAttesters: this.o.remoteAttesters ?? [],
      attesterTimeoutMs: k?.attesterTimeoutMs ?? 2_000, ttlSeconds: k?.attestationTtlSeconds ?? 60,
    });
  }

  /** One pass: index what changed, then look for liquidations in every market; then send what waits in the engine's queue. */
  async tick(): Promise<KeeperTickResult[]> {
    try {
      return await this.tickMarkets();
    } finally {
      // A market that failed (no price, an RPC error) does not hold the queue up.
      await this.pending?.tick();
    }
  }

  private async tickMarkets(): Promise<KeeperTickResult[]> {
    try {
      await this.loadMarkets();
      await this.indexChanges();
      const out: KeeperTickResult[] = [];
      for (const book of this.books.values()) {
        const result = await this.tickMarket(book);
        const seen = this.lastPrices.get(book.name);
        if (seen !== undefined)
          this.lastTicks.set(book.name, marketTickSummary(seen.prices, seen.at, {
            indexed: seen.indexed, candidates: result.candidates.length, liquidated: result.liquidated.length,
            sigma: result.options?.sigma ?? null, strategies: result.options?.strategies ?? 0,
            strategiesDue: result.options?.due ?? 0, strategiesSettled: result.options?.settled.length ?? 0,
          }));
        out.push(result);
      }
      this.lastFailure = null;
      return out;
    } catch (e) {
      this.lastFailure = { at: Date.now(), error: redactText(errorSummary(e)) };
      throw e;
    }
  }

  /**
   * What the last ticks saw, read-only (the status page): per market its prices, each chain's
   * price or why it was left out, and the counts; and the last tick's failure, if it failed.
   */
  lastTick(): { markets: KeeperMarketTick[]; failure: { at: number; error: string } | null } {
    return { markets: [...this.lastTicks.values()], failure: this.lastFailure };
  }

  /**
   * Scans PositionChanged and the strategy events up to the head and re-reads each changed
   * position: its perpetual for the index, its strategy for the options' book.
   */
  private async indexChanges(): Promise<void> {
    const client = this.o.client(this.chain);
    const head = await client.blockNumber();
    if (head > this.scannedTo) {
      const maxRange = BigInt(client.config.maxBlockRange);
      const changed = new Set<string>();
      const strategyEvents = new Set<string>();
      const queued: Log[] = [];
      for (let from = this.scannedTo + 1n; from <= head; from += maxRange) {
        const to = from + maxRange - 1n < head ? from + maxRange - 1n : head;
        // With the range's last header from the same node: a node behind the range throws, never answers "none".
        const topics = [POSITION_CHANGED, ...STRATEGY_TOPICS, ...(this.pending === null ? [] : [SETTLEMENT_QUEUED])];
        const { logs } = await client.logsWithBounds({ address: this.engine, topics: [topics] }, from, to);
        for (const l of logs) {
          if (l.topics[0] === SETTLEMENT_QUEUED) {
            queued.push(l);
            continue;
          }
          if (l.topics[1] === undefined) continue;
          (l.topics[0] === POSITION_CHANGED ? changed : strategyEvents).add(l.topics[1]);
        }
      }
      const keys = [...changed];
      const accounts = await this.readAccounts(keys);
      keys.forEach((key, i) => this.reindex(key, accounts[i] ?? null));
      this.strategies.changed(strategyEvents, changed);
      this.pending?.observe(queued);
      this.scannedTo = head;
    }
    // Read apart: an uncovered strategy's strategyOf reverts while this chain's oracle is stale, and must not stop the perps.
    const { failed, error } = await this.strategies.refresh(client, this.engine);
    if (failed.length > 0)
      this.o.events.emit({ type: 'stage.error', stage: 'keeper.strategies', chain: this.chain, error: `${failed.length} strategies not read, again next tick: ${error ?? '?'}`, retryable: true });
  }

  /** Each position's market and margin account, in one batched request. */
  private async readAccounts(keys: readonly string[]): Promise<({ market: string; account: IsolatedAccount } | null)[]> {
    if (keys.length === 0) return [];
    const client = this.o.client(this.chain);
    const raw = await client.calls(keys.flatMap((k) => [
      { to: this.engine, data: positionOf.encode([k]) },
      { to: this.engine, data: accountOf.encode([k]) },
    ]));
    return keys.map((_, i) => {
      const p = positionOf.decode(raw[2 * i] as string)[0] as unknown as { market: string; size: bigint };
      if (p.size === 0n) return null;
      return { market: p.market, account: accountFromEngine(accountOf.decode(raw[2 * i + 1] as string)[0] as Result) };
    });
  }

  /**
   * Follows the engine's maintenance rate: when it moved (a posted σ with a sigmaRef set, or a new
   * market config), every position of the market is read again and indexed at the new rate.
   */
  private async syncRate(book: MarketBook, rate: bigint): Promise<number> {
    if (rate === book.mmr) return 0;
    book.mmr = rate;
    const keys = [...book.longs.positionKeys(), ...book.shorts.positionKeys()];
    for (let i = 0; i < keys.length; i += REKEY_BATCH) {
      const chunk = keys.slice(i, i + REKEY_BATCH);
      const accounts = await this.readAccounts(chunk);
      chunk.forEach((key, j) => this.reindex(key, accounts[j] ?? null));
    }
    return keys.length;
  }

  private reindex(key: string, state: { market: string; account: IsolatedAccount } | null): void {
    for (const b of this.books.values()) {
      b.longs.remove(key);
      b.shorts.remove(key);
    }
    if (state === null) return;
    const book = this.books.get(state.market);
    if (book === undefined) return;
    const side = state.account.position.side;
    (side === Side.Long ? book.longs : book.shorts).upsert(key, side, liquidationPrice(state.account, book.mmr));
  }

  private async tickMarket(book: MarketBook): Promise<KeeperTickResult> {
    const prices = await this.o.prices.reconcile(book.name);
    const client = this.o.client(this.chain);
    const [[badDebtRaw, rateRaw], optionsConfig] = await Promise.all([
      client.calls([{ to: this.engine, data: badDebtFn.encode([book.id]) }, { to: this.engine, data: maintenanceRateFn.encode([book.id]) }]),
      this.options.readConfig(book.id),
    ]);
    let rekeyed = await this.syncRate(book, maintenanceRateFn.decode(rateRaw as string)[0] as bigint);
    const indexed = book.longs.size + book.shorts.size;
    this.lastPrices.set(book.name, { prices, at: Date.now(), indexed });
    const options = { name: book.name, id: book.id, config: optionsConfig };
    const sigma = optionsConfig === null ? {} : { sigma: optionsConfig.sigma };
    if (!prices.result.ok) {
      const why = `${prices.result.reason}: ${prices.result.detail}${prices.result.excluded.length === 0 ? '' : ` (excluded ${prices.result.excluded.map((e) => `${e.chain} ${e.reason}`).join(', ')})`}`;
      const refusal: AttestationOutcome = { ok: false, reason: why };
      const optionsTick = await this.options.tick({ ...options, range: null, clock: prices.now, attestation: () => Promise.resolve(refusal) });
      this.o.events.emit({ type: 'keeper.tick', market: book.name, ok: false, indexed, candidates: 0, reason: why, strategiesDue: optionsTick.due, ...sigma });
      return { market: book.name, range: null, candidates: [], liquidated: [], options: optionsTick, rekeyed };
    }
    const range = prices.result;
    const clock = await this.engineClock(prices);
    // One attestation of the range per tick, asked for when the first liquidation or settlement needs it.
    let attested: Promise<AttestationOutcome> | undefined;
    const attestation = (): Promise<AttestationOutcome> => (attested ??= (this.attester as RangeAttester).attest(book, range, clock));
    // The conservative end: a long must be underwater even at the highest agreeing price.
    const candidates = [...book.longs.candidates(range.high), ...book.shorts.candidates(range.low)];
    this.o.events.emit({ type: 'keeper.tick', market: book.name, ok: true, indexed, candidates: candidates.length, badDebt: badDebtFn.decode(badDebtRaw as string)[0] as bigint, strategiesDue: this.options.due(book.id, clock), ...sigma });
    const perps = await this.liquidatePerps(book, range, candidates, attestation);
    const optionsTick = await this.options.tick({ ...options, range, clock, attestation });
    // A σ just posted moves the maintenance rate when a sigmaRef is set: the index follows at once.
    if (optionsTick.volatility?.posted != null)
      rekeyed += await this.syncRate(book, maintenanceRateFn.decode(await client.call(this.engine, maintenanceRateFn.encode([book.id])))[0] as bigint);
    return { market: book.name, range, candidates, ...perps, options: optionsTick, rekeyed };
  }

  /** The candidates re-checked exactly on fresh state, and those due liquidated in batches with the tick's attestation. */
  private async liquidatePerps(book: MarketBook, range: ReconciledPrice, candidates: readonly string[], attestation: () => Promise<AttestationOutcome>): Promise<{ liquidated: string[]; reduced?: string[] }> {
    const liquidated: string[] = [];
    if (candidates.length === 0) return { liquidated };
    // Exact re-check on fresh state: the index may lag an event by a tick.
    const fresh = await this.readAccounts(candidates);
    const due: string[] = [];
    for (const [i, key] of candidates.entries()) {
      const state = fresh[i] ?? null;
      if (state?.market !== book.id) {
        this.reindex(key, state);
        continue;
      }
      const price = state.account.position.side === Side.Long ? range.high : range.low;
      if (!isLiquidatable(state.account, { imr: book.imr, mmr: book.mmr }, price)) {
        this.reindex(key, state);
        continue;
      }
      due.push(key);
    }
    if (due.length === 0) return { liquidated };
    // One attestation of the range serves every position while it is fresh; batches of them go in one transaction each.
    const outcome = await attestation();
    if (!outcome.ok) {
      this.o.events.emit({ type: 'keeper.liquidation', market: book.name, positionKey: '', price: range.median, ok: false, reason: outcome.reason });
      return { liquidated };
    }
    const reduced: string[] = [];
    for (let i = 0; i < due.length; i += LIQUIDATION_BATCH) {
      const r = await this.liquidateBatch(book, due.slice(i, i + LIQUIDATION_BATCH), range, outcome.attested);
      liquidated.push(...r.done);
      reduced.push(...r.reduced);
    }
    return { liquidated, reduced };
  }

  /**
   * The attestation's timestamp, in the engine chain's clock: the engine refuses one from its
   * future, and another chain's clock may run a few seconds ahead of it. The readings were
   * taken at `prices.now` (the newest chain clock), so this is never later than that.
   */
  private async engineClock(prices: MarketPrices): Promise<bigint> {
    const own = prices.readings.find((r) => r.chain === this.chain)?.blockTimestamp
      ?? BigInt((await this.o.client(this.chain).block('latest'))?.timestamp ?? prices.now);
    return own < prices.now ? own : prices.now;
  }

  /** liquidateMany for one batch: the keys the engine closed whole, and those it brought back by a partial close (it skips the rescued). */
  private async liquidateBatch(book: MarketBook, keys: readonly string[], range: ReconciledPrice, attested: AttestedRange): Promise<{ done: string[]; reduced: string[] }> {
    const none = { done: [], reduced: [] };
    const data = liquidateManyFn.encode([[...keys], attestationArg(attested.attestation), attested.signatures]);
    try {
      const receipt = await this.o.sender.submit({ to: this.engine, data, purpose: 'liquidate', messages: [], ...this.leases() });
      if (receipt.status !== 1) {
        for (const key of keys) this.o.events.emit({ type: 'keeper.liquidation', market: book.name, positionKey: key, price: range.median, ok: false, tx: receipt.transactionHash, reason: 'reverted on chain' });
        return none;
      }
      const done: string[] = [];
      const reduced: string[] = [];
      for (const l of receipt.logs) {
        const partial = l.topics[0] === POSITION_PARTIALLY_LIQUIDATED;
        if (l.address.toLowerCase() !== this.engine.toLowerCase() || (l.topics[0] !== POSITION_LIQUIDATED && !partial)) continue;
        const parsed = engineIface.parseLog({ topics: [...l.topics], data: l.data });
        if (parsed === null) continue;
        const key = parsed.args.getValue('positionKey') as string;
        (partial ? reduced : done).push(key);
        this.o.events.emit({ type: 'keeper.liquidation', market: book.name, positionKey: key, price: parsed.args.getValue('price') as bigint, ok: true, tx: receipt.transactionHash, ...(partial ? { partial: true } : {}) });
      }
      for (const key of done) this.reindex(key, null);
      // A partly liquidated position stays open, with a new size and liquidation price: read it again.
      const states = await this.readAccounts(reduced);
      reduced.forEach((key, i) => this.reindex(key, states[i] ?? null));
      await this.queued.sendFrom(receipt.logs);
      return { done, reduced };
    } catch (e) {
      if (!(e instanceof TxRevertedError)) throw e;
      const reason = engineRevertReason(e.revertData);
      for (const key of keys) this.o.events.emit({ type: 'keeper.liquidation', market: book.name, positionKey: key, price: range.median, ok: false, reason });
      return none;
    }
  }
}
