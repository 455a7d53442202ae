// The composition root: builds the relayer from its config and injected dependencies (store,
// keys, event bus, clock) and runs its loops: one watcher per route, the deliver and confirm
// stages, and the heartbeat of its leases. Several instances may share one PostgreSQL store: each
// leases its own gas key, claims messages in leases, and scans a route only while it holds the
// route's scan lease; whatever it no longer holds, it neither writes nor signs for.
import type { Wallet } from 'ethers';
import { ChainClient } from '../chains/client.js';
import { BatchSubmitter } from '../chains/tx/batchSubmitter.js';
import { sleep, TxSender } from '../chains/tx/sender.js';
import type { Config } from '../config/schema.js';
import { assertKeysSeparated } from '../config/secrets.js';
import { errorSummary, isIsorelayError, isRetryable, ErrorCode } from '../errors/base.js';
import { confirmStep } from '../pipeline/confirm/confirmStep.js';
import { RevertConfirmer } from '../pipeline/deliver/confirmRevert.js';
import { deliverStep } from '../pipeline/deliver/deliverStep.js';
import { EventBus } from '../pipeline/events.js';
import { StageRunner } from '../pipeline/runStage.js';
import { SourceWatcher } from '../pipeline/watch/sourceWatcher.js';
import { seizeGuard } from '../liquidation/seizeGuard.js';
import { CreditLimits } from '../pipeline/decide/creditLimits.js';
import { ExecutionDecider } from '../pipeline/decide/decide.js';
import { SourceVerifier } from '../pipeline/verify/sourceVerifier.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { LeaseBook } from '../store/leases.js';
import { LeaseLostError, type Store } from '../store/store.js';
import { createTransports } from '../transports/registry.js';
import type { Transport } from '../transports/transport.js';

export interface RelayerDeps {
  config: Config;
  store: Store;
  /** Pays gas and submits; the DVN admin on LayerZero. */
  relayerKey: Wallet;
  /** Signs DVN verifications: one of the DVN's multisig signers (LayerZero routes only). */
  dvnSigner?: Wallet;
  /** The signers of layerzero.moreDvns, by name (keys.dvnSigners). */
  dvnSigners?: Readonly<Record<string, Wallet>>;
  events?: EventBus;
  now?: () => number;
  /** This instance's name (shown in leases and status; default host-pid) and how long its leases last. */
  instance?: { name?: string; leaseMs?: number };
}

/** A name for this run of this instance: a restarted instance is a new lease owner. */
export function leaseOwner(name: string | undefined): string {
  return `${name ?? `${hostname()}-${process.pid}`}#${randomBytes(3).toString('hex')}`;
}

export interface ChainView {
  chain: string;
  head: bigint | null;
  finalized: bigint | null;
  lastPollAt: number | null;
  lastError: string | null;
}

/** How often the gas key's balances are read. */
const BALANCE_EVERY_MS = 30_000;

/** The longest an idle stage loop waits before it asks the store for due messages again. */
const IDLE_PUMP_MAX_MS = 200;

/** How long an instance that does not scan a route waits between reads of its source's head. */
const FOLLOWER_POLL_MS = 1_000;

/** How long readiness waits for the store before it calls it unavailable. */
const HEALTH_STORE_TIMEOUT_MS = 1_500;

/** `p`, or a rejection with `why` after `ms`. */
function withTimeout<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(why)), ms)))]).finally(() => clearTimeout(timer));
}

/** How often stored transactions that nothing waits for are reconciled with the chain. */
const RECONCILE_EVERY_MS = 10_000;

export class Relayer {
  readonly events: EventBus;
  readonly chains: ReadonlyMap<string, ChainClient>;
  private readonly senders = new Map<string, TxSender>();
  private readonly batches = new Map<string, BatchSubmitter>();
  private readonly transports: ReadonlyMap<string, Transport>;
  private readonly watchers: { route: string; chain: string; watcher: SourceWatcher }[];
  private readonly deliver: StageRunner;
  private readonly confirm: StageRunner;
  private readonly halted = new Map<string, string>();
  /** What this instance holds: its gas key, the routes it scans, the keeper, the messages in its steps. */
  readonly book: LeaseBook;
  /** The lease on the gas key: one instance signs with a key at a time (no two transactions share a nonce). */
  readonly gasLease: string;
  private readonly views = new Map<string, ChainView>();
  private loops: Promise<void>[] = [];
  private running = false;
  private started = false;

  static create(deps: RelayerDeps): Relayer {
    assertKeysSeparated([
      { role: 'relayer (gas)', address: deps.relayerKey.address },
      ...(deps.dvnSigner === undefined ? [] : [{ role: 'DVN signer', address: deps.dvnSigner.address }]),
      ...Object.entries(deps.dvnSigners ?? {}).map(([name, w]) => ({ role: `DVN signer "${name}"`, address: w.address })),
    ]);
    return new Relayer(deps);
  }

  private constructor(private readonly deps: RelayerDeps) {
    const { config, store } = deps;
    this.events = deps.events ?? new EventBus();
    const now = deps.now ?? Date.now;
    this.book = new LeaseBook(store, { owner: leaseOwner(deps.instance?.name ?? config.instance.name), ttlMs: deps.instance?.leaseMs ?? config.instance.leaseMs });
    this.gasLease = `gas:${deps.relayerKey.address.toLowerCase()}`;
    this.book.want(this.gasLease);
    this.chains = new Map(Object.entries(config.chains).map(([name, c]) => [name, new ChainClient(name, c)]));
    for (const name of this.chains.keys()) this.views.set(name, { chain: name, head: null, finalized: null, lastPollAt: null, lastError: null });
    this.transports = createTransports(config, { dvnSigner: deps.dvnSigner, dvnSigners: deps.dvnSigners });
    this.watchers = config.routes.map((route) => ({
      route: route.name,
      chain: route.source,
      watcher: new SourceWatcher({
        route, store, events: this.events, client: this.client(route.source), watch: this.transport(route.transport).sourceWatch(route.name), now, book: this.book,
      }),
    }));
    this.events.on((e) => {
      if (e.type === 'chain.head') Object.assign(this.views.get(e.chain) ?? {}, { head: e.head, finalized: e.finalized, lastPollAt: now(), lastError: null });
    });
    const retry = { baseMs: config.pipeline.retryBaseMs, maxMs: config.pipeline.retryMaxMs, maxAttempts: config.pipeline.maxAttempts };
    const activeRoutes = () => config.routes.map((r) => r.name).filter((r) => !this.halted.has(r));
    const common = {
      store, events: this.events, retry, concurrency: config.pipeline.batchSize, routes: activeRoutes, now,
      book: this.book, canClaim: () => this.recovered && this.holdsKey(),
    };
    this.deliver = new StageRunner({
      ...common,
      name: 'deliver',
      statuses: ['finalized', 'verified'],
      step: deliverStep({
        store, events: this.events, now,
        transport: (n) => this.transport(n),
        dst: (c) => this.client(c),
        sender: (c) => this.sender(c),
        batch: (c) => this.batch(c),
        isPaused: (r) => config.routes.find((x) => x.name === r)?.paused === true,
        verifier: new SourceVerifier({ config, events: this.events, transport: (n) => this.transport(n) }),
        revertConfirmer: new RevertConfirmer(config.chains),
        decider: new ExecutionDecider({
          seize: { check: seizeGuard({ config, client: (c) => this.client(c), appMessage: (row) => this.transport(row.transport).appMessage(row) }) },
          limits: new CreditLimits({ config, store, events: this.events, transport: (n) => this.transport(n) }),
        }),
      }),
    });
    this.confirm = new StageRunner({
      ...common,
      name: 'confirm',
      statuses: ['submitted'],
      step: confirmStep({ transport: (n) => this.transport(n), dst: (c) => this.client(c), now }),
    });
    // A message that reaches a stage's status wakes that stage now, not at its next tick.
    this.events.on((e) => {
      if (!this.running || e.type !== 'message.moved') return;
      if (e.to === 'finalized') this.deliver.requestPump();
      else if (e.to === 'submitted') this.confirm.requestPump();
    });
  }

  client(name: string): ChainClient {
    const c = this.chains.get(name);
    if (c === undefined) throw new Error(`unknown chain ${name}`);
    return c;
  }

  private transport(name: string): Transport {
    const t = this.transports.get(name);
    if (t === undefined) throw new Error(`unknown transport ${name}`);
    return t;
  }

  /** The one sender of the relayer key on a chain (the keeper shares it: one writer per chain and key). */
  senderFor(chain: string): TxSender {
    return this.sender(chain);
  }

  private sender(chain: string): TxSender {
    let s = this.senders.get(chain);
    if (s === undefined) {
      const c = this.client(chain);
      s = new TxSender(c, this.deps.relayerKey, this.deps.store, {
        pollMs: c.config.pollMs, stuckAfterMs: c.config.stuckTxMs, maxFeeMultiplier: c.config.maxFeeMultiplier,
        onAlert: (a) => this.events.emit({ type: 'incident', chain: a.chain, code: a.code, message: a.message }),
        // Signed only while this instance holds the key and every message (or named lease) the transaction is for.
        guard: (req) => this.book.assertSendable(req.messages, [this.gasLease, ...(req.leases ?? [])]),
        stillHeld: (req) => this.book.holdsLocally(req.messages, [this.gasLease, ...(req.leases ?? [])]),
        keyHeld: () => this.holdsKey(),
      });
      this.senders.set(chain, s);
    }
    return s;
  }

  private batch(chain: string): BatchSubmitter | undefined {
    const c = this.client(chain);
    if (c.config.batcher === undefined) return undefined;
    let b = this.batches.get(chain);
    if (b === undefined) {
      b = new BatchSubmitter(c, this.sender(chain), c.config.batcher, c.config.maxBatchCalls ?? 120, (ids) => {
        const lost = this.book.lost(ids);
        return lost.length === 0 ? null : new LeaseLostError(lost.join(','));
      });
      this.batches.set(chain, b);
    }
    return b;
  }

  /** Checks every chain id, recovers transactions in flight before a crash, starts the loops. */
  async start(): Promise<void> {
    if (this.running) return;
    this.stopRequested = false;
    // A node that is down or flaky at start is waited for (with backoff), not a reason to exit;
    // a node of the wrong chain is (RPC_CHAIN_ID_MISMATCH is not retryable).
    await Promise.all([...this.chains.values()].map((c) => this.untilDone(`${c.name}: chain id`, () => c.checkChainId())));
    for (const s of this.senders.values()) s.reopen();
    await this.book.heartbeat();
    await this.syncHalts();
    // With the key leased, what this key left in flight is found now; otherwise when the lease comes.
    if (this.holdsKey()) await this.recoverSenders();
    this.running = true;
    this.started = true;
    this.loops = [this.heartbeatLoop(), ...this.watchers.map((w) => this.watchLoop(w)), this.stageLoop()];
  }

  /** Whether this instance holds its gas key now: without it, it claims nothing and sends nothing. */
  holdsKey(): boolean {
    return this.book.held(this.gasLease) !== undefined;
  }

  /** Set once the senders found what the key left in flight: no claims before. */
  private recovered = false;
  private recovering: Promise<void> | undefined;

  private async recoverSenders(): Promise<void> {
    const destinations = new Set(this.deps.config.routes.map((r) => r.destination));
    await Promise.all([...destinations].map((d) => this.untilDone(`${d}: recovering transactions in flight`, () => this.sender(d).recover())));
    this.recovered = true;
  }

  /**
   * Extends this instance's leases several times per lease; a lease it loses stops its work at
   * once. Recovery of the key's transactions (when the key's lease comes late) runs beside it:
   * an RPC that is down must not stop the heartbeat.
   */
  private async heartbeatLoop(): Promise<void> {
    let balancesAt = 0;
    while (this.running) {
      if (Date.now() - balancesAt > BALANCE_EVERY_MS) {
        balancesAt = Date.now();
        // Beside the heartbeat, never in its way: a slow node must not delay the leases.
        void this.readBalances();
      }
      await sleep(this.book.heartbeatMs);
      if (!this.running) break;
      await this.book.heartbeat();
      await this.syncHalts();
      if (!this.recovered && this.recovering === undefined && this.holdsKey()) {
        this.recovering = this.recoverSenders().catch(() => undefined).finally(() => (this.recovering = undefined));
      }
    }
  }

  private stopRequested = false;

  /** Runs `fn` until it succeeds; retryable failures are reported and retried with backoff (up to 5 s apart). */
  private async untilDone(what: string, fn: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!isRetryable(e) || this.stopRequested) throw e;
        this.events.emit({ type: 'stage.error', stage: 'start', error: `${what}: ${errorSummary(e)}`, retryable: true });
        await sleep(Math.min(5_000, 100 * 2 ** attempt));
      }
    }
  }

  /**
   * Stops within `graceMs` whatever is in flight: the loops end, every sender stops waiting (its
   * transactions stay stored, and the next start finds them), and the steps in flight are given
   * the rest of the grace to record their outcome.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.running = false;
    this.stopRequested = true;
    const deadline = Date.now() + graceMs;
    // The grace timer is cleared as soon as the work ends: a pending timer would keep the process alive.
    const within = async (p: Promise<unknown>): Promise<void> => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([p, new Promise<void>((resolve) => { timer = setTimeout(resolve, Math.max(0, deadline - Date.now())); })]);
      clearTimeout(timer);
    };
    await within(Promise.allSettled(this.loops));
    await within(this.recovering ?? Promise.resolve());
    for (const s of this.senders.values()) s.close();
    await within(Promise.allSettled([this.deliver.drain(), this.confirm.drain()]));
    this.loops = [];
    // Another instance takes the gas key, the scans and the keeper over at once instead of after their leases run out.
    await this.book.releaseAll();
    this.recovered = false;
  }

  /** One pass of every stage, waiting for the work it starts (tests and `--once`). */
  async tick(): Promise<void> {
    await this.book.heartbeat();
    await this.syncHalts();
    if (!this.recovered && this.holdsKey()) await this.recoverSenders();
    for (const w of this.watchers) if (!this.halted.has(w.route)) await this.pollWatcher(w);
    await this.deliver.pump();
    await this.deliver.drain();
    await this.confirm.pump();
    await this.confirm.drain();
  }

  get haltedRoutes(): ReadonlyMap<string, string> {
    return this.halted;
  }

  chainViews(): ChainView[] {
    return [...this.views.values()];
  }

  /**
   * Ready when started, no route halted, every watched chain polled recently, no chain whose RPC
   * endpoints all fail, no route whose oldest message on its way is older than the route's expected
   * time, and no transaction at the fee cap or unmined for long. Each failing check says why; each
   * recovers by itself when its cause goes.
   */
  async health(): Promise<{ ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> }> {
    const checks: Record<string, { ok: boolean; detail?: string }> = { started: { ok: this.started } };
    const leases = this.book.state();
    if (this.started && !this.holdsKey())
      checks.gasKey = {
        ok: false,
        detail: leases.storeError !== null
          ? `the gas key ${this.deps.relayerKey.address}'s lease could not be renewed (the store is unavailable): no work until it is back`
          : `the gas key ${this.deps.relayerKey.address} is leased by another instance (or not yet): this instance takes no work until it holds it; give every instance its own key`,
      };
    const now = (this.deps.now ?? Date.now)();
    for (const v of this.views.values()) {
      const limit = Math.max(30_000, this.client(v.chain).config.pollMs * 20);
      const watched = this.watchers.some((w) => w.chain === v.chain);
      if (!watched) continue;
      const ok = v.lastPollAt !== null && now - v.lastPollAt < limit;
      checks[`chain:${v.chain}`] = ok ? { ok } : { ok, detail: v.lastError ?? 'not polled yet' };
    }
    for (const [route, why] of this.halted) checks[`route:${route}`] = { ok: false, detail: `halted: ${why}` };
    for (const [name, c] of this.chains) {
      // Every endpoint failed more recently than any answered, for longer than a poll or two.
      const rpc = c.rpc;
      if (rpc.lastAllFailedAt > rpc.lastAnsweredAt && now - rpc.lastAnsweredAt > Math.max(10_000, c.config.pollMs * 20))
        checks[`rpc:${name}`] = { ok: false, detail: `no RPC endpoint of ${name} answers: ${rpc.lastFailure ?? '?'}` };
    }
    let storeDown = leases.storeError;
    for (const route of this.deps.config.routes) {
      if (this.halted.has(route.name) || storeDown !== null) continue;
      let oldest: number | null;
      try {
        // Readiness answers quickly even when the store does not: a query that hangs is an answer too.
        oldest = await withTimeout(this.deps.store.oldestMoving(route.name), HEALTH_STORE_TIMEOUT_MS, `no answer within ${HEALTH_STORE_TIMEOUT_MS} ms`);
      } catch (e) {
        storeDown = errorSummary(e);
        continue;
      }
      const expected = route.expectedDeliveryMs ?? this.deps.config.pipeline.stallAfterMs;
      if (oldest !== null && now - oldest > expected)
        checks[`route:${route.name}`] = { ok: false, detail: `delivery is stalled: the oldest message on its way was observed ${Math.round((now - oldest) / 1000)} s ago (expected within ${Math.round(expected / 1000)} s)` };
    }
    if (storeDown !== null) checks.store = { ok: false, detail: `the ${this.deps.store.kind} store is unavailable: claims and sends are stopped until it is back (${storeDown})` };
    for (const [chain, s] of this.senders) {
      const st = s.state(now);
      const stuckAfter = Math.max(60_000, this.client(chain).config.stuckTxMs * 4);
      if (st.atFeeCap.length > 0) checks[`sender:${chain}`] = { ok: false, detail: `transaction(s) at the fee cap, nonce ${st.atFeeCap.join(', ')}` };
      else if (st.oldestFlightMs !== null && st.oldestFlightMs > stuckAfter)
        checks[`sender:${chain}`] = { ok: false, detail: `a transaction has waited ${Math.round(st.oldestFlightMs / 1000)} s for its receipt (nonce gap or a stuck pool?)` };
    }
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  }

  private async pollWatcher(w: { route: string; chain: string; watcher: SourceWatcher }): Promise<boolean> {
    try {
      return await w.watcher.poll();
    } catch (e) {
      const view = this.views.get(w.chain);
      if (view !== undefined) view.lastError = errorSummary(e);
      if (isIsorelayError(e, ErrorCode.REORG_BEYOND_FINALITY)) {
        this.halted.set(w.route, e.message);
        // Halted for every instance on the store, and across restarts, until an operator resumes it.
        this.unpersistedHalts.add(w.route);
        await this.syncHalts();
        this.events.emit({ type: 'incident', chain: w.chain, code: e.code, message: e.message });
      } else {
        this.events.emit({ type: 'stage.error', stage: 'watch', chain: w.chain, error: errorSummary(e), retryable: isRetryable(e) });
      }
      return false;
    }
  }

  private async watchLoop(w: { route: string; chain: string; watcher: SourceWatcher }): Promise<void> {
    const pollMs = this.client(w.chain).config.pollMs;
    while (this.running) {
      // A halted route is not scanned; it is again once an operator resumes it.
      const worked = this.halted.has(w.route) ? false : await this.pollWatcher(w);
      // Another instance scans this route: only its head is read, less often.
      if (!worked) await sleep(w.watcher.scanning ? pollMs : Math.max(pollMs, FOLLOWER_POLL_MS));
    }
  }

  /** The gas key's balance on every destination chain (for isorelay_wallet_balance_eth and its alert). */
  private async readBalances(): Promise<void> {
    const address = this.deps.relayerKey.address;
    const destinations = new Set(this.deps.config.routes.map((r) => r.destination));
    await Promise.allSettled([...destinations].map(async (chain) => {
      const wei = BigInt(await this.client(chain).rpc.call<string>('eth_getBalance', [address, 'latest']));
      this.events.emit({ type: 'wallet.balance', chain, address, wei, lowWei: this.deps.config.chains[chain]?.lowBalanceEth ?? 0n });
    }));
  }

  /** Halts this instance found that the store does not know yet (it was away when they happened). */
  private readonly unpersistedHalts = new Set<string>();

  /**
   * The halted routes are the store's (another instance's incident halts this one too) plus any
   * this instance could not record yet; a halt an operator lifted (`isorelay route resume`) ends here too.
   */
  private async syncHalts(): Promise<void> {
    try {
      for (const route of [...this.unpersistedHalts]) {
        await this.deps.store.haltRoute(route, this.halted.get(route) ?? 'halted');
        this.unpersistedHalts.delete(route);
      }
      const stored = new Map((await this.deps.store.haltedRoutes()).map((h) => [h.route, h.reason]));
      for (const route of [...this.halted.keys()]) if (!stored.has(route) && !this.unpersistedHalts.has(route)) this.halted.delete(route);
      for (const [route, reason] of stored) this.halted.set(route, reason);
    } catch {
      // The store is away: the halts known here stand; the next heartbeat tries again.
    }
  }

  private async stageLoop(): Promise<void> {
    const tickMs = this.deps.config.pipeline.tickMs;
    let reconciledAt = Date.now();
    let idleMs = 0;
    while (this.running) {
      if (Date.now() - reconciledAt > RECONCILE_EVERY_MS && this.holdsKey()) {
        reconciledAt = Date.now();
        // Stored transactions no submit waits for any more: mined, replaced, or sent again (no gap before later nonces).
        await Promise.allSettled([...this.senders.values()].map((s) => s.reconcile()));
      }
      const started = (await this.deliver.pump()) + (await this.confirm.pump());
      // Idle, the store is asked less and less often (up to IDLE_PUMP_MAX_MS): with several
      // instances, idle polling is most of the database's load. Work found here, and every move
      // this instance makes (requestPump), bring the pace back at once.
      idleMs = started === 0 ? Math.min(idleMs === 0 ? tickMs : idleMs * 2, Math.max(tickMs, IDLE_PUMP_MAX_MS)) : 0;
      await sleep(started === 0 ? idleMs : 1);
    }
  }
}
