// The liquidation keeper (DESIGN, Liquidation 1–4). Per market, longs and shorts are indexed by
// liquidation price, kept current from the engine's PositionChanged events (each changed position
// is read again from the engine: its state is the truth). On every tick: reconcile the market's
// feeds on every chain; no agreeing quorum → nobody is liquidated. Otherwise the candidates at the
// conservative end of the range (longs at `high`, shorts at `low`) come from the index in
// O(log n + k) and are re-checked exactly with fresh engine state; one attestation of the range
// (the attesters' EIP-712 signatures) then serves them all, sent in batches to `liquidateMany`,
// and the SEIZEs they queue are sent at once, the keeper paying their fees. The engine checks it
// all again on chain.
import { id, Interface, type Result, type Wallet } from 'ethers';
import { abiFunction, errorDecoder } from '../chains/abiFunction.js';
import type { ChainClient } from '../chains/client.js';
import { ourArtifact } from '../chains/contractsAbi.js';
import { TxRevertedError, type TxSender } from '../chains/tx/sender.js';
import type { Config } from '../config/schema.js';
import { errorSummary } from '../errors/base.js';
import { redactText } from '../errors/redact.js';
import { isLiquidatable, liquidationPrice, Side, type IsolatedAccount } from '../margin/index.js';
import type { MarketPrices, PriceService } from '../oracle/priceService.js';
import type { ReconciledPrice } from '../oracle/reconcile.js';
import type { EventBus } from '../pipeline/events.js';
import { attestationDomain, type PriceAttestation } from './attestation.js';
import { gatherSignatures, type RemoteAttester } from './remoteAttesters.js';
import { accountFromEngine } from './engineAccount.js';
import { PositionIndex } from './positionIndex.js';
import { marketTickSummary, type KeeperMarketTick } from './tickSummary.js';

const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);
const accountOf = abiFunction(engineIface, 'accountOf');
const positionOf = abiFunction(engineIface, 'positionOf');
const marketOfFn = abiFunction(engineIface, 'marketOf');
const attestationsFn = abiFunction(engineIface, 'attestations');
const liquidateManyFn = abiFunction(engineIface, 'liquidateMany');
const decodeError = errorDecoder([engineIface, new Interface(ourArtifact('PriceAttestations').abi)]);
const isAttesterFn = abiFunction(new Interface(ourArtifact('PriceAttestations').abi), 'isAttester');
const POSITION_CHANGED = engineIface.getEvent('PositionChanged')?.topicHash as string;
const SETTLEMENT_QUEUED = engineIface.getEvent('SettlementQueued');
const sendQueuedManyFn = abiFunction(engineIface, 'sendQueuedMany');
const POSITION_LIQUIDATED = engineIface.getEvent('PositionLiquidated')?.topicHash as string;
const POSITION_PARTIALLY_LIQUIDATED = engineIface.getEvent('PositionPartiallyLiquidated')?.topicHash as string;
/** Positions per liquidateMany transaction (each costs about 60k gas): well inside a block. */
export const LIQUIDATION_BATCH = 100;
const quoteSettlementFn = abiFunction(engineIface, 'quoteSettlement');
const badDebtFn = abiFunction(engineIface, 'badDebt');


interface MarketBook {
  name: string;
  id: string;
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
  private attestations: string | undefined;
  private chainId: bigint | undefined;
  private readonly attesterCache = new Map<string, { at: number; ok: boolean }>();
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
      const m = marketOfFn.decode(await client.call(this.engine, marketOfFn.encode([marketId])))[0] as Result;
      if (m.getValue('enabled') !== true) continue; // a market the engine does not trade has no positions to watch
      this.books.set(marketId, { name, id: marketId, imr: m.getValue('imr') as bigint, mmr: m.getValue('mmr') as bigint, longs: new PositionIndex(), shorts: new PositionIndex() });
    }
    this.attestations = attestationsFn.decode(await client.call(this.engine, attestationsFn.encode([])))[0] as string;
    this.chainId = BigInt(client.config.chainId);
  }

  /** One pass: index what changed, then look for liquidations in every market. */
  async tick(): Promise<KeeperTickResult[]> {
    try {
      await this.loadMarkets();
      await this.indexChanges();
      const out: KeeperTickResult[] = [];
      for (const book of this.books.values()) {
        const result = await this.tickMarket(book);
        const seen = this.lastPrices.get(book.name);
        if (seen !== undefined)
          this.lastTicks.set(book.name, marketTickSummary(seen.prices, seen.at, { indexed: seen.indexed, candidates: result.candidates.length, liquidated: result.liquidated.length }));
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

  /** Scans PositionChanged logs up to the head and re-reads each changed position. */
  private async indexChanges(): Promise<void> {
    const client = this.o.client(this.chain);
    const head = await client.blockNumber();
    if (head <= this.scannedTo) return;
    const maxRange = BigInt(client.config.maxBlockRange);
    const changed = new Set<string>();
    for (let from = this.scannedTo + 1n; from <= head; from += maxRange) {
      const to = from + maxRange - 1n < head ? from + maxRange - 1n : head;
      // With the range's last header from the same node: a node behind the range throws, never answers "none".
      const { logs } = await client.logsWithBounds({ address: this.engine, topics: [POSITION_CHANGED] }, from, to);
      for (const l of logs) if (l.topics[1] !== undefined) changed.add(l.topics[1]);
    }
    const keys = [...changed];
    const accounts = await this.readAccounts(keys);
    keys.forEach((key, i) => this.reindex(key, accounts[i] ?? null));
    this.scannedTo = head;
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
    const indexed = book.longs.size + book.shorts.size;
    this.lastPrices.set(book.name, { prices, at: Date.now(), indexed });
    if (!prices.result.ok) {
      const why = `${prices.result.reason}: ${prices.result.detail}${prices.result.excluded.length === 0 ? '' : ` (excluded ${prices.result.excluded.map((e) => `${e.chain} ${e.reason}`).join(', ')})`}`;
      this.o.events.emit({ type: 'keeper.tick', market: book.name, ok: false, indexed, candidates: 0, reason: why });
      return { market: book.name, range: null, candidates: [], liquidated: [] };
    }
    const range = prices.result;
    // The conservative end: a long must be underwater even at the highest agreeing price.
    const candidates = [...book.longs.candidates(range.high), ...book.shorts.candidates(range.low)];
    // The market's uncovered deficits (bad debt), for the metric: one read per tick.
    const [badDebt] = badDebtFn.decode(await this.o.client(this.chain).call(this.engine, badDebtFn.encode([book.id])));
    this.o.events.emit({ type: 'keeper.tick', market: book.name, ok: true, indexed, candidates: candidates.length, badDebt: badDebt as bigint });
    const liquidated: string[] = [];
    if (candidates.length === 0) return { market: book.name, range, candidates, liquidated };

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
    if (due.length === 0) return { market: book.name, range, candidates, liquidated };
    // One attestation of the range serves every position while it is fresh; batches of them go in one transaction each.
    const attested = await this.attest(book, range, await this.engineClock(prices));
    if (attested === null) return { market: book.name, range, candidates, liquidated };
    const reduced: string[] = [];
    for (let i = 0; i < due.length; i += LIQUIDATION_BATCH) {
      const r = await this.liquidateBatch(book, due.slice(i, i + LIQUIDATION_BATCH), range, attested);
      liquidated.push(...r.done);
      reduced.push(...r.reduced);
    }
    return { market: book.name, range, candidates, liquidated, reduced };
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

  /** Whether each signer is in the engine's attester set (read once a minute at most). */
  private async knownAttesters(signers: readonly string[]): Promise<boolean[]> {
    const now = Date.now();
    const stale = signers.filter((s) => (this.attesterCache.get(s)?.at ?? 0) < now - 60_000);
    if (stale.length > 0 && this.attestations !== undefined) {
      const raws = await this.o.client(this.chain).calls(stale.map((s) => ({ to: this.attestations as string, data: isAttesterFn.encode([s]) })));
      stale.forEach((s, i) => this.attesterCache.set(s, { at: now, ok: isAttesterFn.decode(raws[i] as string)[0] as boolean }));
    }
    return signers.map((s) => this.attesterCache.get(s)?.ok === true);
  }

  /**
   * Sends what a batch of liquidations queued (their SEIZEs) at once, in one transaction paying
   * every messaging fee: the engine has no balance of its own, so the keeper that liquidates
   * delivers the money it moved. A send that fails leaves them queued for anyone to send.
   */
  private async sendQueued(logs: readonly { address: string; topics: readonly string[]; data: string }[]): Promise<void> {
    const ids: bigint[] = [];
    const settlements: unknown[][] = [];
    for (const l of logs) {
      if (l.address.toLowerCase() !== this.engine.toLowerCase() || l.topics[0] !== SETTLEMENT_QUEUED?.topicHash) continue;
      const parsed = engineIface.parseLog({ topics: [...l.topics], data: l.data });
      if (parsed === null) continue;
      ids.push(parsed.args.getValue('id') as bigint);
      settlements.push([...(parsed.args.getValue('s') as Result)]);
    }
    if (ids.length === 0) return;
    const client = this.o.client(this.chain);
    const chains = [...new Set(settlements.map((s) => s[0] as bigint))];
    const quotes = await client.calls(chains.map((c) => ({ to: this.engine, data: quoteSettlementFn.encode([c]) })));
    const feeOf = new Map(chains.map((c, i) => [c, quoteSettlementFn.decode(quotes[i] as string)[0] as bigint]));
    const value = settlements.reduce((sum, s) => sum + (feeOf.get(s[0] as bigint) ?? 0n), 0n);
    try {
      const receipt = await this.o.sender.submit({ to: this.engine, data: sendQueuedManyFn.encode([ids, settlements]), value, purpose: 'sendQueued', messages: [], ...this.leases() });
      for (const id of ids) this.o.events.emit({ type: 'keeper.settlementSent', id, ok: receipt.status === 1, tx: receipt.transactionHash });
    } catch (e) {
      if (!(e instanceof TxRevertedError)) throw e;
      const d = e.revertData === null ? null : decodeError(e.revertData);
      for (const id of ids) this.o.events.emit({ type: 'keeper.settlementSent', id, ok: false, reason: d === null ? `reverted (${e.revertData ?? 'no data'})` : d.name });
    }
  }

  /** The market's range, signed by the attesters the contract knows; null (and an event) when none signs. */
  private async attest(book: MarketBook, range: ReconciledPrice, timestamp: bigint): Promise<{ attestation: PriceAttestation; signatures: string[] } | null> {
    const chainIds = range.sources
      .map((s) => BigInt(this.o.config.chains[s.chain]?.chainId ?? 0))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const attestation: PriceAttestation = {
      market: book.id, low: range.low, high: range.high, median: range.median,
      timestamp, chains: chainIds, deadline: timestamp + BigInt(this.o.config.keeper?.attestationTtlSeconds ?? 60),
    };
    const gathered = await gatherSignatures(
      book.name, attestation, attestationDomain(this.chainId ?? 0n, this.attestations ?? ''), this.o.attesters, this.o.remoteAttesters ?? [], this.o.config.keeper?.attesterTimeoutMs ?? 2_000,
    );
    // Only signers the contract knows: one unknown signature makes the whole liquidation revert.
    const known = await this.knownAttesters(gathered.signers);
    const signatures = gathered.signatures.filter((_s, i) => known[i] === true);
    const refusals = [...gathered.refusals, ...gathered.signers.filter((_s, i) => known[i] !== true).map((s) => `${s} is not an attester on chain`)];
    if (signatures.length === 0) {
      this.o.events.emit({ type: 'keeper.liquidation', market: book.name, positionKey: '', price: range.median, ok: false, reason: `no attester signed: ${refusals.join('; ')}` });
      return null;
    }
    return { attestation, signatures };
  }

  /** liquidateMany for one batch: the keys the engine closed whole, and those it brought back by a partial close (it skips the rescued). */
  private async liquidateBatch(book: MarketBook, keys: readonly string[], range: ReconciledPrice, attested: { attestation: PriceAttestation; signatures: string[] }): Promise<{ done: string[]; reduced: string[] }> {
    const none = { done: [], reduced: [] };
    const a = attested.attestation;
    const data = liquidateManyFn.encode([[...keys], [a.market, a.low, a.high, a.median, a.timestamp, [...a.chains], a.deadline], attested.signatures]);
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
      await this.sendQueued(receipt.logs);
      return { done, reduced };
    } catch (e) {
      if (!(e instanceof TxRevertedError)) throw e;
      const d = e.revertData === null ? null : decodeError(e.revertData);
      const reason = d === null ? `reverted (${e.revertData ?? 'no data'})` : `${d.name}(${d.args.map(String).join(', ')})`;
      for (const key of keys) this.o.events.emit({ type: 'keeper.liquidation', market: book.name, positionKey: key, price: range.median, ok: false, reason });
      return none;
    }
  }
}
