// Prometheus metrics, fed only by the pipeline's event stream (and the store, read on scrape):
// nothing in the pipeline calls prom-client.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MESSAGE_STATUSES } from '../messages/status.js';
import type { EventBus, RelayerEvent } from '../pipeline/events.js';
import type { LeaseBookState } from '../store/leases.js';
import type { RouteCounts, Store } from '../store/store.js';

/** Stuck messages of a route for one reason code. */
export interface StuckGaugeCount {
  route: string;
  reason: string;
  n: number;
}

/** All the metrics need of a store: its message counts, read at scrape time. */
export type StoreCounts = Pick<Store, 'countsByRoute'>;

export interface Metrics {
  registry: Registry;
  /** Fills `isorelay_messages` from `store.countsByRoute()` at every scrape. */
  observeStore(store: StoreCounts): void;
  /** Fills the instance's lease gauges and the fenced-send count from its lease book at every scrape. */
  observeInstance(state: () => LeaseBookState): void;
  /** Fills `isorelay_stuck_messages` at every scrape from the stuck counts (app/stuck.ts). */
  observeStuck(counts: () => Promise<readonly StuckGaugeCount[]>): void;
  /** Unsubscribes from the bus and removes this module's metrics from the registry. */
  dispose(): void;
}

/** Every metric this module registers, by role. */
export const METRIC = {
  transitions: 'isorelay_message_transitions_total',
  deliveryAge: 'isorelay_message_delivery_age_seconds',
  reorgs: 'isorelay_reorgs_total',
  nonceGaps: 'isorelay_nonce_gaps_total',
  held: 'isorelay_messages_held_total',
  disagreements: 'isorelay_source_disagreements_total',
  limited: 'isorelay_credits_limited_total',
  liquidations: 'isorelay_liquidations_total',
  keeperBlocked: 'isorelay_keeper_no_price_total',
  badDebt: 'isorelay_bad_debt_usd',
  strategySettlements: 'isorelay_strategy_settlements_total',
  strategyLiquidations: 'isorelay_strategy_liquidations_total',
  strategiesDue: 'isorelay_strategies_due',
  volatility: 'isorelay_volatility',
  queuedSettlements: 'isorelay_queued_settlements',
  queuedSettlementsSent: 'isorelay_queued_settlements_sent_total',
  reorgDepth: 'isorelay_reorg_last_depth_blocks',
  chainHead: 'isorelay_chain_head_block',
  chainFinalized: 'isorelay_chain_finalized_block',
  txsMined: 'isorelay_txs_mined_total',
  gasUsed: 'isorelay_tx_gas_used_total',
  stageErrors: 'isorelay_stage_errors_total',
  incidents: 'isorelay_incidents_total',
  messages: 'isorelay_messages',
  leaseHeld: 'isorelay_lease_held',
  claims: 'isorelay_claims_in_flight',
  fencedSends: 'isorelay_fenced_sends_total',
  storeUp: 'isorelay_store_up',
  oldestPending: 'isorelay_oldest_pending_age_seconds',
  scanLag: 'isorelay_scan_lag_blocks',
  walletBalance: 'isorelay_wallet_balance_eth',
  walletLow: 'isorelay_wallet_low_balance',
  stuck: 'isorelay_stuck_messages',
} as const;

/** Seconds from observation to delivery: sub-second on fast chains, minutes where finality is slow. */
const DELIVERY_AGE_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600];

export function createMetrics(bus: EventBus, registry: Registry = new Registry()): Metrics {
  const registers = [registry];
  let store: StoreCounts | undefined;
  let instance: (() => LeaseBookState) | undefined;
  let stuck: (() => Promise<readonly StuckGaugeCount[]>) | undefined;

  const transitions = new Counter({
    name: METRIC.transitions,
    help: 'Messages moved from one status to another',
    labelNames: ['route', 'from', 'to'] as const,
    registers,
  });
  const deliveryAge = new Histogram({
    name: METRIC.deliveryAge,
    help: 'Age of a message (since it was observed) when it reached delivered',
    labelNames: ['route'] as const,
    buckets: DELIVERY_AGE_BUCKETS,
    registers,
  });
  const limited = new Counter({
    name: METRIC.limited,
    help: 'CREDITs stopped by a route limit: held above the per-message cap, or waiting for room in the window',
    labelNames: ['route', 'held'] as const,
    registers,
  });
  const nonceGaps = new Counter({
    name: METRIC.nonceGaps,
    help: 'Nonce gaps on a transport path (missed logs), each followed by a rescan',
    labelNames: ['stream'] as const,
    registers: [registry],
  });
  const liquidations = new Counter({
    name: METRIC.liquidations,
    help: 'Liquidations the keeper sent, by market and outcome',
    labelNames: ['market', 'ok'] as const,
    registers: [registry],
  });
  const keeperBlocked = new Counter({
    name: METRIC.keeperBlocked,
    help: 'Keeper ticks without a reconciled price (fail closed: nobody liquidated)',
    labelNames: ['market'] as const,
    registers: [registry],
  });
  const badDebt = new Gauge({
    name: METRIC.badDebt,
    help: 'Liquidation deficits no insurance covered (the engine\'s badDebt), USD, by market; read by the keeper each tick',
    labelNames: ['market'] as const,
    registers: [registry],
  });
  const strategySettlements = new Counter({
    name: METRIC.strategySettlements,
    help: 'Expired options strategies the keeper settled (ok="true"), or did not (a simulated revert, no attestation), by market',
    labelNames: ['market', 'ok'] as const,
    registers,
  });
  const strategyLiquidations = new Counter({
    name: METRIC.strategyLiquidations,
    help: 'Uncovered options strategies the keeper liquidated (ok="true"), or did not, by market',
    labelNames: ['market', 'ok'] as const,
    registers,
  });
  const strategiesDue = new Gauge({
    name: METRIC.strategiesDue,
    help: 'Options strategies expired and not settled yet, by market, as the keeper\'s last tick saw them',
    labelNames: ['market'] as const,
    registers,
  });
  const volatility = new Gauge({
    name: METRIC.volatility,
    help: 'A market\'s annualised volatility σ on the engine (1 = 100 %), as the keeper\'s last tick read it or posted it',
    labelNames: ['market'] as const,
    registers,
  });
  const queuedSettlements = new Gauge({
    name: METRIC.queuedSettlements,
    help: 'Settlements queued on the engine longer than the keeper\'s grace and not sent yet, by the chain they go back to, as the keeper\'s last tick saw them',
    labelNames: ['chain'] as const,
    registers,
  });
  const queuedSettlementsSent = new Counter({
    name: METRIC.queuedSettlementsSent,
    help: 'Queued settlements the keeper sent (ok="true") or failed to send (ok="false": still queued, tried again later), by chain and kind',
    labelNames: ['chain', 'kind', 'ok'] as const,
    registers,
  });
  const held = new Counter({
    name: METRIC.held,
    help: 'Messages held for an operator (a SEIZE price the source oracle disputes, a CREDIT above its cap, providers that disagree)',
    labelNames: ['route'] as const,
    registers: [registry],
  });
  const disagreements = new Counter({
    name: METRIC.disagreements,
    help: 'Messages whose source chain\'s independent providers served different contents (held, nothing signed)',
    labelNames: ['chain', 'route'] as const,
    registers,
  });
  const reorgs = new Counter({
    name: METRIC.reorgs,
    help: 'Chain reorganisations detected while scanning',
    labelNames: ['stream'] as const,
    registers,
  });
  const reorgDepth = new Gauge({
    name: METRIC.reorgDepth,
    help: 'Depth in blocks of the last reorganisation detected',
    labelNames: ['stream'] as const,
    registers,
  });
  const head = new Gauge({
    name: METRIC.chainHead,
    help: 'Latest block number seen on a chain',
    labelNames: ['chain'] as const,
    registers,
  });
  const finalizedHead = new Gauge({
    name: METRIC.chainFinalized,
    help: 'Latest block a chain considers final under its finality policy',
    labelNames: ['chain'] as const,
    registers,
  });
  const txsMined = new Counter({
    name: METRIC.txsMined,
    help: 'Transactions mined, by purpose and whether they succeeded',
    labelNames: ['chain', 'purpose', 'ok'] as const,
    registers,
  });
  const gasUsed = new Counter({
    name: METRIC.gasUsed,
    help: 'Gas used by mined transactions',
    labelNames: ['chain', 'purpose'] as const,
    registers,
  });
  const stageErrors = new Counter({
    name: METRIC.stageErrors,
    help: 'Errors raised by a pipeline stage',
    labelNames: ['stage', 'retryable'] as const,
    registers,
  });
  const incidents = new Counter({
    name: METRIC.incidents,
    help: 'Incidents that need an operator',
    labelNames: ['chain', 'code'] as const,
    registers,
  });
  // One read of the store's counts serves every gauge of a scrape (a scrape collects them all at
  // once: they share the read in flight); null while there is no store or it does not answer.
  let counting: Promise<RouteCounts[] | null> | undefined;
  const countsThisScrape = (): Promise<RouteCounts[] | null> => {
    if (store === undefined) return Promise.resolve(null);
    counting ??= store.countsByRoute().catch(() => null).finally(() => (counting = undefined));
    return counting;
  };

  // Registered only: its collect() fills it from the store on each scrape.
  new Gauge({
    name: METRIC.messages,
    help: 'Messages in the store by route and status',
    labelNames: ['route', 'status'] as const,
    registers,
    async collect() {
      const rows = await countsThisScrape();
      // The store is away: the last counts stand (readiness says why).
      if (rows === null) return;
      this.reset();
      for (const { route, counts } of rows) {
        // Every status gets a series, so a count that drops to zero reads 0 rather than vanishing.
        for (const status of MESSAGE_STATUSES) this.set({ route, status }, counts[status] ?? 0);
      }
    },
  });

  new Gauge({
    name: METRIC.oldestPending,
    help: 'Age of the oldest message of a route still on its way (not delivered, dead or orphaned), 0 when none',
    labelNames: ['route'] as const,
    registers,
    async collect() {
      const rows = await countsThisScrape();
      if (rows === null) return;
      this.reset();
      const now = Date.now();
      for (const { route, oldestPendingAt } of rows) this.set({ route }, oldestPendingAt === null ? 0 : Math.max(0, (now - oldestPendingAt) / 1000));
    },
  });
  const scanLag = new Gauge({
    name: METRIC.scanLag,
    help: 'Blocks of a route\'s source between the head and what its scan has covered (catching up when large)',
    labelNames: ['stream', 'chain'] as const,
    registers,
  });
  const walletBalance = new Gauge({
    name: METRIC.walletBalance,
    help: 'The gas key\'s native balance on a chain (ETH, as a float: for alerts, not accounting)',
    labelNames: ['chain', 'address'] as const,
    registers,
  });
  const walletLow = new Gauge({
    name: METRIC.walletLow,
    help: 'The gas key\'s balance on a chain is below the chain\'s lowBalanceEth: 1, else 0',
    labelNames: ['chain', 'address'] as const,
    registers,
  });
  new Gauge({
    name: METRIC.stuck,
    help: 'Messages older than their route\'s expected delivery time and not delivered, dead or orphaned, by route and reason code',
    labelNames: ['route', 'reason'] as const,
    registers,
    async collect() {
      if (stuck === undefined) return;
      const counts = await stuck().catch(() => null);
      // The store is away: the last counts stand (readiness says why).
      if (counts === null) return;
      this.reset();
      for (const c of counts) this.set({ route: c.route, reason: c.reason }, c.n);
    },
  });

  // The instance's leases, read from its lease book at scrape time.
  new Gauge({
    name: METRIC.leaseHeld,
    help: 'Named leases this instance wants: 1 while it holds one (gas key, a route\'s scan, the keeper), 0 while another instance does',
    labelNames: ['lease'] as const,
    registers,
    collect() {
      if (instance === undefined) return;
      const st = instance();
      this.reset();
      for (const l of st.held) this.set({ lease: l }, 1);
      for (const l of st.waiting) this.set({ lease: l }, 0);
    },
  });
  new Gauge({
    name: METRIC.claims,
    help: 'Messages this instance has claimed and is working on',
    registers,
    collect() {
      if (instance !== undefined) this.set(instance().claims);
    },
  });
  new Counter({
    name: METRIC.fencedSends,
    help: 'Transactions this instance did not sign or send because it no longer held their lease (it was fenced)',
    registers,
    collect() {
      if (instance === undefined) return;
      this.reset();
      this.inc(instance().fencedSends);
    },
  });
  new Gauge({
    name: METRIC.storeUp,
    help: '1 while the store answered the last lease heartbeat, 0 while it is unavailable',
    registers,
    collect() {
      if (instance !== undefined) this.set(instance().storeError === null ? 1 : 0);
    },
  });

  const onEvent = (e: RelayerEvent): void => {
    switch (e.type) {
      case 'chain.head':
        // Block numbers stay far below 2^53: Number() is exact here.
        head.set({ chain: e.chain }, Number(e.head));
        finalizedHead.set({ chain: e.chain }, Number(e.finalized));
        return;
      case 'scan.reorg':
        reorgs.inc({ stream: e.stream });
        reorgDepth.set({ stream: e.stream }, Number(e.depth));
        return;
      case 'message.moved':
        transitions.inc({ route: e.route, from: e.from, to: e.to });
        if (e.to === 'delivered') deliveryAge.observe({ route: e.route }, e.ageMs / 1000);
        if (e.to === 'held') held.inc({ route: e.route });
        return;
      case 'tx.mined':
        txsMined.inc({ chain: e.chain, purpose: e.purpose, ok: String(e.ok) });
        gasUsed.inc({ chain: e.chain, purpose: e.purpose }, Number(e.gasUsed));
        return;
      case 'stage.error':
        stageErrors.inc({ stage: e.stage, retryable: String(e.retryable) });
        return;
      case 'incident':
        incidents.inc({ chain: e.chain, code: e.code });
        return;
      case 'scan.gap':
        nonceGaps.inc({ stream: e.stream });
        return;
      case 'verify.disagreement':
        disagreements.inc({ chain: e.chain, route: e.route });
        return;
      case 'route.limited':
        limited.inc({ route: e.route, held: String(e.held) });
        return;
      case 'keeper.tick':
        if (!e.ok) keeperBlocked.inc({ market: e.market });
        // USD 1e18 as a float: a gauge for alerting, not an amount to settle with.
        if (e.badDebt !== undefined) badDebt.set({ market: e.market }, Number(e.badDebt / 10n ** 12n) / 1e6);
        if (e.strategiesDue !== undefined) strategiesDue.set({ market: e.market }, e.strategiesDue);
        if (e.sigma !== undefined) volatility.set({ market: e.market }, Number(e.sigma / 10n ** 12n) / 1e6);
        return;
      case 'keeper.strategy':
        (e.action === 'settle' ? strategySettlements : strategyLiquidations).inc({ market: e.market, ok: String(e.ok) });
        return;
      case 'keeper.volatility':
        if (e.ok) volatility.set({ market: e.market }, Number(e.sigma / 10n ** 12n) / 1e6);
        return;
      case 'keeper.liquidation':
        liquidations.inc({ market: e.market, ok: String(e.ok) });
        return;
      case 'keeper.settlementSent':
        // One sent meanwhile by someone else was not the keeper's doing.
        if (e.skipped !== true) queuedSettlementsSent.inc({ chain: e.chain, kind: e.kind, ok: String(e.ok) });
        return;
      case 'keeper.settlementsPending':
        for (const p of e.pending) queuedSettlements.set({ chain: p.chain }, p.count);
        return;
      case 'scan.progress':
        scanLag.set({ stream: e.stream, chain: e.chain }, Math.max(0, Number(e.head - e.scanned)));
        return;
      case 'wallet.balance':
        walletBalance.set({ chain: e.chain, address: e.address }, Number(e.wei / 10n ** 9n) / 1e9);
        walletLow.set({ chain: e.chain, address: e.address }, e.wei < e.lowWei ? 1 : 0);
        return;
      case 'scan.range':
      case 'message.observed':
        return;
    }
  };
  const unsubscribe = bus.on(onEvent);
  // Process and Node.js metrics (RSS, heap, GC, event loop lag): memory growth shows as heap or as RSS.
  const before = new Set(registry.getMetricsAsArray().map((m) => m.name));
  collectDefaultMetrics({ register: registry });
  const defaults = registry.getMetricsAsArray().map((m) => m.name).filter((n) => !before.has(n));

  return {
    registry,
    observeStore(s: StoreCounts): void {
      store = s;
    },
    observeInstance(state: () => LeaseBookState): void {
      instance = state;
    },
    observeStuck(counts: () => Promise<readonly StuckGaugeCount[]>): void {
      stuck = counts;
    },
    dispose(): void {
      unsubscribe();
      store = undefined;
      instance = undefined;
      stuck = undefined;
      for (const name of [...Object.values(METRIC), ...defaults]) registry.removeSingleMetric(name);
    },
  };
}
