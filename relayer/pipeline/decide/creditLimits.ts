// Bounds the damage a compromised or buggy source can do through a credit route (RELIABILITY 9):
// per source token, a CREDIT above `maxPerMessage` is held for the operator, and the value let
// through in any `windowSeconds` stays within `maxPerWindow` (later CREDITs wait for room).
// A CREDIT counts once, from when it passes here; after a restart the window is rebuilt from
// the store (what went past its first step within the window).
import type { Config, CreditLimitConfig } from '../../config/schema.js';
import { decodeMessage, MessageKind } from '../../messages/codec.js';
import { HoldCode } from '../../messages/status.js';
import type { MessageRow, Store } from '../../store/store.js';
import type { Transport } from '../../transports/transport.js';
import type { EventBus } from '../events.js';

export type GuardVerdict = { kind: 'hold'; code: HoldCode; reason: string } | { kind: 'wait'; reason: string } | null;

interface Passed {
  at: number;
  amount: bigint;
}

interface RouteWindow {
  /** By message id, so a retried message never counts twice. */
  passed: Map<string, Passed & { token: string }>;
}

export interface CreditLimitsDeps {
  config: Pick<Config, 'routes'>;
  store: Pick<Store, 'sentSince'>;
  transport: (name: string) => Transport;
  events: EventBus;
  now?: () => number;
}

/** What a CREDIT row carries: its source token (lower case) and amount, or null when it is not a CREDIT of ours. */
function creditOf(row: MessageRow, transport: Transport): { token: string; amount: bigint } | null {
  if (row.kind !== 'CREDIT') return null;
  try {
    const m = decodeMessage(transport.appMessage(row));
    return m.kind === MessageKind.CREDIT ? { token: m.token.toLowerCase(), amount: m.amount } : null;
  } catch {
    return null; // not our payload: the engine refuses it on chain
  }
}

export class CreditLimits {
  private readonly windows = new Map<string, RouteWindow>();
  private readonly now: () => number;

  constructor(private readonly deps: CreditLimitsDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Whether `row` may go now; a CREDIT that may is counted in its route's window from now on. */
  check(row: MessageRow): GuardVerdict {
    const route = this.deps.config.routes.find((r) => r.name === row.route);
    if (route === undefined || route.direction !== 'credit' || route.limits.length === 0) return null;
    const credit = creditOf(row, this.deps.transport(row.transport));
    if (credit === null) return null;
    const limit = route.limits.find((l) => l.token.toLowerCase() === credit.token);
    if (limit === undefined) return null;
    const window = this.windowOf(route.name, route.limits);
    if (window.passed.has(row.id)) return null;
    const now = this.now();
    const verdict = row.guardReleased ? null : this.verdict(route.name, credit, limit, window, now);
    if (verdict !== null) {
      this.deps.events.emit({ type: 'route.limited', route: route.name, id: row.id, token: credit.token, amount: credit.amount, held: verdict.kind === 'hold', reason: verdict.reason });
      return verdict;
    }
    window.passed.set(row.id, { at: now, amount: credit.amount, token: credit.token });
    return null;
  }

  private verdict(route: string, credit: { token: string; amount: bigint }, limit: CreditLimitConfig, window: RouteWindow, now: number): GuardVerdict {
    const { amount, token } = credit;
    if (limit.maxPerMessage !== undefined && amount > limit.maxPerMessage)
      return { kind: 'hold', code: HoldCode.creditCap, reason: `CREDIT of ${amount} (token ${token}) is above route ${route}'s per-message cap of ${limit.maxPerMessage}` };
    if (limit.maxPerWindow === undefined) return null;
    if (amount > limit.maxPerWindow)
      return { kind: 'hold', code: HoldCode.creditCap, reason: `CREDIT of ${amount} (token ${token}) is above route ${route}'s whole window of ${limit.maxPerWindow}` };
    const since = now - limit.windowSeconds * 1000;
    let used = 0n;
    for (const [id, p] of window.passed) {
      if (p.token !== token) continue; // another token's window may be longer
      if (p.at < since) window.passed.delete(id);
      else used += p.amount;
    }
    if (used + amount > limit.maxPerWindow)
      return { kind: 'wait', reason: `route ${route} credited ${used} of its ${limit.maxPerWindow} (token ${token}) in the last ${limit.windowSeconds} s: this CREDIT of ${amount} waits for room` };
    return null;
  }

  /** The route's window, rebuilt from the store the first time (after a start). */
  private windowOf(route: string, limits: readonly CreditLimitConfig[]): RouteWindow {
    let w = this.windows.get(route);
    if (w !== undefined) return w;
    w = { passed: new Map() };
    const longest = Math.max(...limits.map((l) => l.windowSeconds));
    for (const row of this.deps.store.sentSince(route, this.now() - longest * 1000)) {
      const credit = creditOf(row, this.deps.transport(row.transport));
      // When it passed is not stored: its last move is a later time, which keeps it in the window longer (the safe side).
      if (credit !== null) w.passed.set(row.id, { at: row.updatedAt, amount: credit.amount, token: credit.token });
    }
    this.windows.set(route, w);
    return w;
  }
}
