// The data behind the status page (GET /overview): per route its counts, pause or halt, and how far
// its source has been scanned; per chain its heads (latest, finalized, scanned); the messages held
// for an operator, those on their way (status, reason code and text, age) and those stuck past their
// route's expected time (app/stuck.ts); the latest deliveries with their latency; the keeper's last
// look at each market. Read from the store, the relayer's chain views and the keeper's last tick:
// no RPC call is made here.
import type { Config } from '../config/schema.js';
import type { KeeperMarketTick } from '../liquidation/tickSummary.js';
import type { ReasonCode } from '../messages/reasons.js';
import { DEFERRED, MESSAGE_STATUSES, TERMINAL, type MessageStatus } from '../messages/status.js';
import type { LeaseBookState } from '../store/leases.js';
import type { MessageRow, Store } from '../store/store.js';
import type { ChainView } from './relayer.js';
import { expectedDeliveryMs, findStuck, type StuckCount, type StuckMessage } from './stuck.js';

/** Rows of each list the page shows at most (the counts are complete). */
export const OVERVIEW_LIMITS = { pending: 100, held: 100, stuckPerRoute: 20, recent: 20 } as const;

/** A message by its ids, as every list of the page shows it. */
export interface MessageSummary {
  id: string;
  route: string;
  kind: string | null;
  status: MessageStatus;
  /** The message id of docs/messages.md (a CREDIT's lockId). */
  messageId: string | null;
  srcTx: string;
  /** Since it was observed (ms). */
  ageMs: number;
}

export interface PendingMessage extends MessageSummary {
  /** For a waiting or failed message: the status it resumes at. */
  resumeStatus: MessageStatus | null;
  attempts: number;
  /** The code of its last wait or failure (messages/reasons.ts), and its text. */
  reasonCode: ReasonCode | null;
  reason: string | null;
  /** For a waiting or failed message: in how long it is looked at again (ms; 0 when due). */
  nextAttemptInMs: number | null;
}

export interface HeldMessage extends MessageSummary {
  holdCode: string | null;
  reasonCode: ReasonCode | null;
  reason: string | null;
  /** Since it was held (its last move, ms). */
  heldForMs: number;
}

export interface Delivery extends MessageSummary {
  deliveredAt: number;
  /** From observation on the source to delivery on the destination (ms). */
  latencyMs: number;
  dstTx: string | null;
}

export interface OverviewRoute {
  route: string;
  /** Null for a route the store knows and the config no longer names. */
  source: string | null;
  destination: string | null;
  transport: string | null;
  direction: string | null;
  paused: boolean;
  /** Why the route is halted (an incident), or null. */
  halted: string | null;
  counts: Record<MessageStatus, number>;
  total: number;
  oldestPendingAgeMs: number | null;
  expectedMs: number | null;
  /** The last source block scanned for this route (the shared checkpoint), or null if not configured. */
  scanned: bigint | null;
}

export interface OverviewChain {
  chain: string;
  chainId: number;
  /** As last polled by this instance; null before the first poll (or for a chain no route watches). */
  latest: bigint | null;
  finalized: bigint | null;
  /** The lowest checkpoint of the routes sourced on this chain, or null if none is. */
  scanned: bigint | null;
  lastPollAgeMs: number | null;
  lastError: string | null;
}

export interface KeeperOverview {
  chain: string;
  /** Whether this instance runs the keeper now (it holds the keeper's lease). */
  running: boolean;
  markets: KeeperMarketTick[];
  lastFailure: { at: number; error: string } | null;
}

export interface Overview {
  generatedAt: number;
  instance: LeaseBookState;
  /** Whether this server takes operator actions (a token is configured); read-only otherwise. */
  actions: boolean;
  routes: OverviewRoute[];
  chains: OverviewChain[];
  held: { total: number; messages: HeldMessage[] };
  /**
   * Messages older than their route's expected delivery time and not final (app/stuck.ts): how
   * many by route and reason code, and the oldest of each configured route, oldest first. Held
   * messages count too (they are listed under `held` as well).
   */
  stuck: { total: number; counts: StuckCount[]; messages: StuckMessage[] };
  pending: { total: number; messages: PendingMessage[] };
  recent: Delivery[];
  /** Null when the keeper is not enabled. */
  keeper: KeeperOverview | null;
}

export interface OverviewSources {
  config: Config;
  store: Pick<Store, 'countsByRoute' | 'list' | 'getCheckpoint' | 'unfinished'>;
  relayer: { chainViews(): ChainView[]; readonly haltedRoutes: ReadonlyMap<string, string>; book: { state(): LeaseBookState } };
  keeper?: { running: boolean; lastTick(): { markets: KeeperMarketTick[]; failure: { at: number; error: string } | null } };
  actions: boolean;
  now?: number;
}

/** Statuses of a message still on its way: not terminal, not held for an operator. */
export const MOVING_STATUSES: readonly MessageStatus[] = MESSAGE_STATUSES.filter((s) => !TERMINAL.has(s) && s !== 'held');

/**
 * The scan checkpoint's name of a route's source stream: the one the route's SourceWatcher gives
 * its LogScanner (pipeline/watch/sourceWatcher.ts).
 */
export const scanStream = (route: { name: string; transport: string }): string => `${route.name}:${route.transport}`;

const summary = (row: MessageRow, now: number): MessageSummary => ({
  id: row.id, route: row.route, kind: row.kind, status: row.status, messageId: row.messageId, srcTx: row.srcTx, ageMs: Math.max(0, now - row.observedAt),
});

export async function buildOverview(s: OverviewSources): Promise<Overview> {
  const { config, store } = s;
  const now = s.now ?? Date.now();
  const expectedOf = (route: string): number => expectedDeliveryMs(config, route);

  const [counts, scanned, heldRows, deliveredRows, stuck] = await Promise.all([
    store.countsByRoute(),
    Promise.all(config.routes.map(async (r) => [r.name, (await store.getCheckpoint(scanStream(r))) ?? BigInt(config.chains[r.source]?.startBlock ?? 0) - 1n] as const)),
    store.list({ status: 'held', limit: OVERVIEW_LIMITS.held }),
    // Newest observed first; enough of them to find the latest deliveries among.
    store.list({ status: 'delivered', limit: OVERVIEW_LIMITS.recent * 5 }),
    findStuck(store, config, now, OVERVIEW_LIMITS.stuckPerRoute),
  ]);
  const scannedOf = new Map(scanned);
  const stored = new Map(counts.map((c) => [c.route, c]));
  const names = [...config.routes.map((r) => r.name), ...[...stored.keys()].filter((n) => !config.routes.some((r) => r.name === n))];
  const routes = names.map((name): OverviewRoute => {
    const cfg = config.routes.find((r) => r.name === name);
    const row = stored.get(name);
    const byStatus = Object.fromEntries(MESSAGE_STATUSES.map((st) => [st, row?.counts[st] ?? 0])) as Record<MessageStatus, number>; // every status is a key
    return {
      route: name, source: cfg?.source ?? null, destination: cfg?.destination ?? null, transport: cfg?.transport ?? null, direction: cfg?.direction ?? null,
      paused: cfg?.paused ?? false, halted: s.relayer.haltedRoutes.get(name) ?? null,
      counts: byStatus, total: MESSAGE_STATUSES.reduce((n, st) => n + byStatus[st], 0),
      oldestPendingAgeMs: row?.oldestPendingAt === null || row?.oldestPendingAt === undefined ? null : Math.max(0, now - row.oldestPendingAt),
      expectedMs: cfg === undefined ? null : expectedOf(name),
      scanned: scannedOf.get(name) ?? null,
    };
  });

  const views = new Map(s.relayer.chainViews().map((v) => [v.chain, v]));
  const chains = Object.entries(config.chains).map(([chain, c]): OverviewChain => {
    const v = views.get(chain);
    const sourced = config.routes.filter((r) => r.source === chain).map((r) => scannedOf.get(r.name)).filter((b) => b !== undefined);
    return {
      chain, chainId: c.chainId, latest: v?.head ?? null, finalized: v?.finalized ?? null,
      scanned: sourced.length === 0 ? null : sourced.reduce((a, b) => (b < a ? b : a)),
      lastPollAgeMs: v?.lastPollAt === null || v?.lastPollAt === undefined ? null : Math.max(0, now - v.lastPollAt),
      lastError: v?.lastError ?? null,
    };
  });

  // The oldest on their way, of every route that has any (held ones come in the same read and are
  // left out: with more held than the margin below, a route's newer moving messages may not show).
  const busy = routes.filter((r) => MOVING_STATUSES.some((st) => r.counts[st] > 0)).map((r) => r.route);
  const unfinished = await Promise.all(busy.map((route) => store.unfinished(route, now + 1, OVERVIEW_LIMITS.pending + OVERVIEW_LIMITS.held)));
  const moving = unfinished.flatMap((u) => u.rows).filter((row) => row.status !== 'held').sort((a, b) => a.observedAt - b.observedAt);
  const pending = moving.slice(0, OVERVIEW_LIMITS.pending).map((row): PendingMessage => ({
    ...summary(row, now), resumeStatus: DEFERRED.has(row.status) ? row.resumeStatus : null, attempts: row.attempts, reasonCode: row.reasonCode, reason: row.lastError,
    nextAttemptInMs: DEFERRED.has(row.status) ? Math.max(0, row.nextAttemptAt - now) : null,
  }));
  const held = heldRows
    .sort((a, b) => a.updatedAt - b.updatedAt)
    .map((row): HeldMessage => ({ ...summary(row, now), holdCode: row.holdCode, reasonCode: row.reasonCode, reason: row.lastError, heldForMs: Math.max(0, now - row.updatedAt) }));
  const recent = deliveredRows
    .filter((row): row is MessageRow & { deliveredAt: number } => row.deliveredAt !== null)
    .sort((a, b) => b.deliveredAt - a.deliveredAt)
    .slice(0, OVERVIEW_LIMITS.recent)
    .map((row): Delivery => ({ ...summary(row, now), deliveredAt: row.deliveredAt, latencyMs: Math.max(0, row.deliveredAt - row.observedAt), dstTx: row.dstTx }));

  const total = (statuses: readonly MessageStatus[]) => routes.reduce((n, r) => n + statuses.reduce((m, st) => m + r.counts[st], 0), 0);
  const k = config.keeper;
  const last = s.keeper?.lastTick();
  return {
    generatedAt: now,
    instance: s.relayer.book.state(),
    actions: s.actions,
    routes,
    chains,
    held: { total: total(['held']), messages: held },
    stuck: { total: stuck.counts.reduce((n, c) => n + c.n, 0), counts: stuck.counts, messages: stuck.messages },
    pending: { total: total(MOVING_STATUSES), messages: pending },
    recent,
    keeper: k?.enabled !== true ? null : { chain: k.chain, running: s.keeper?.running ?? false, markets: last?.markets ?? [], lastFailure: last?.failure ?? null },
  };
}
