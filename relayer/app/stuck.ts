// Stuck detection: a message older than its route's expected delivery time that is not delivered,
// dead or orphaned is stuck, and says why with one code (messages/reasons.ts): the code of its last
// wait, hold or failure, or where it is when nothing went wrong (its source block not final yet,
// queued, its transaction unconfirmed). Shown by `isorelay message`, `isorelay status`, the status
// page and the isorelay_stuck_messages gauge; the alert fires on that gauge.
import type { Config } from '../config/schema.js';
import { ProgressCode, type ReasonCode } from '../messages/reasons.js';
import type { MessageStatus } from '../messages/status.js';
import type { MessageRow, Store, UnfinishedCount } from '../store/store.js';

export interface StuckMessage {
  id: string;
  route: string;
  kind: string | null;
  status: MessageStatus;
  reason: ReasonCode;
  /** The last wait, hold or failure's text, if any. */
  detail: string | null;
  ageMs: number;
  expectedMs: number;
}

export interface StuckCount {
  route: string;
  reason: ReasonCode;
  n: number;
}

/** How long a message of `route` may take from observation to delivery: the route's own `expectedDeliveryMs`, else `pipeline.stallAfterMs`. */
export function expectedDeliveryMs(config: Config, route: string): number {
  return config.routes.find((r) => r.name === route)?.expectedDeliveryMs ?? config.pipeline.stallAfterMs;
}

/** Why a message that is not final is where it is, as one code. */
export function stuckReason(m: Pick<MessageRow, 'status' | 'reasonCode' | 'holdCode'>): ReasonCode {
  if (m.reasonCode !== null) return m.reasonCode;
  if (m.status === 'held' && m.holdCode !== null) return m.holdCode;
  if (m.status === 'observed') return ProgressCode.sourceNotFinal;
  if (m.status === 'submitted') return ProgressCode.txUnconfirmed;
  return ProgressCode.queued;
}

/** The message as stuck, or null when it is final or still within its route's expected time. */
export function stuckOf(config: Config, m: MessageRow, now: number): StuckMessage | null {
  if (m.status === 'delivered' || m.status === 'dead' || m.status === 'orphaned') return null;
  const expectedMs = expectedDeliveryMs(config, m.route);
  const ageMs = now - m.observedAt;
  if (ageMs <= expectedMs) return null;
  return { id: m.id, route: m.route, kind: m.kind, status: m.status, reason: stuckReason(m), detail: m.lastError, ageMs, expectedMs };
}

/**
 * Every configured route's stuck messages: how many by reason (all of them), and the oldest
 * `limit` of each route in detail. Null counts for a route the store could not answer for.
 */
export async function findStuck(store: Pick<Store, 'unfinished'>, config: Config, now: number, limit = 20): Promise<{ messages: StuckMessage[]; counts: StuckCount[] }> {
  const perRoute = await Promise.all(config.routes.map(async (r) => {
    const expectedMs = expectedDeliveryMs(config, r.name);
    const { rows, counts } = await store.unfinished(r.name, now - expectedMs, limit);
    return { route: r.name, rows, counts };
  }));
  const messages: StuckMessage[] = [];
  const counts: StuckCount[] = [];
  for (const { route, rows, counts: c } of perRoute) {
    for (const row of rows) {
      const s = stuckOf(config, row, now);
      if (s !== null) messages.push(s);
    }
    counts.push(...foldByReason(route, c));
  }
  messages.sort((a, b) => b.ageMs - a.ageMs);
  return { messages, counts };
}

function foldByReason(route: string, counts: readonly UnfinishedCount[]): StuckCount[] {
  const by = new Map<ReasonCode, number>();
  for (const c of counts) {
    const reason = stuckReason(c);
    by.set(reason, (by.get(reason) ?? 0) + c.n);
  }
  return [...by].map(([reason, n]) => ({ route, reason, n }));
}
