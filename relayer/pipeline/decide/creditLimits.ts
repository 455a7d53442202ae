// Bounds the damage a compromised or buggy source can do through a credit route (RELIABILITY 9):
// per source token, a CREDIT above `maxPerMessage` is held for the operator, and the value let
// through in any `windowSeconds` stays within `maxPerWindow` (later CREDITs wait for room).
// A CREDIT counts once, from when it passes here, in the store's ledger: it survives a restart and
// is shared by every instance on the same database.
import type { Config } from '../../config/schema.js';
import { decodeMessage, MessageKind } from '../../messages/codec.js';
import { WaitCode } from '../../messages/reasons.js';
import { HoldCode } from '../../messages/status.js';
import type { MessageRow, Store } from '../../store/store.js';
import type { Transport } from '../../transports/transport.js';
import type { EventBus } from '../events.js';

export type GuardVerdict = { kind: 'hold'; code: HoldCode; reason: string } | { kind: 'wait'; code: WaitCode; reason: string } | null;

export interface CreditLimitsDeps {
  config: Pick<Config, 'routes'>;
  store: Pick<Store, 'passCredit'>;
  transport: (name: string) => Transport;
  events: EventBus;
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
  constructor(private readonly deps: CreditLimitsDeps) {}

  /**
   * Whether `row` may go now; a CREDIT that may is counted in its route's window from now on.
   * The window is the store's ledger, counted and written in one transaction under a lock on the
   * route: instances sharing a database share one window (three instances never pass three windows' worth).
   */
  async check(row: MessageRow): Promise<GuardVerdict> {
    const route = this.deps.config.routes.find((r) => r.name === row.route);
    if (route === undefined || route.direction !== 'credit' || route.limits.length === 0) return null;
    const credit = creditOf(row, this.deps.transport(row.transport));
    if (credit === null) return null;
    const limit = route.limits.find((l) => l.token.toLowerCase() === credit.token);
    if (limit === undefined) return null;
    const { amount, token } = credit;
    const held = (reason: string): GuardVerdict => ({ kind: 'hold', code: HoldCode.creditCap, reason });
    let verdict: GuardVerdict = null;
    if (!row.guardReleased) {
      if (limit.maxPerMessage !== undefined && amount > limit.maxPerMessage)
        verdict = held(`CREDIT of ${amount} (token ${token}) is above route ${route.name}'s per-message cap of ${limit.maxPerMessage}`);
      else if (limit.maxPerWindow !== undefined && amount > limit.maxPerWindow)
        verdict = held(`CREDIT of ${amount} (token ${token}) is above route ${route.name}'s whole window of ${limit.maxPerWindow}`);
    }
    if (verdict === null) {
      // A released message passes whatever the window holds, and still counts in it.
      const max = row.guardReleased || limit.maxPerWindow === undefined ? null : limit.maxPerWindow;
      // The window is timed by the store's clock: instances whose clocks disagree share it all the same.
      const r = await this.deps.store.passCredit({ route: route.name, id: row.id, token, amount, windowMs: limit.windowSeconds * 1000, max });
      if (r.passed) return null;
      verdict = { kind: 'wait', code: WaitCode.creditWindow, reason: `route ${route.name} credited ${r.used} of its ${limit.maxPerWindow} (token ${token}) in the last ${limit.windowSeconds} s: this CREDIT of ${amount} waits for room` };
    }
    this.deps.events.emit({ type: 'route.limited', route: route.name, id: row.id, token, amount, held: verdict.kind === 'hold', reason: verdict.reason });
    return verdict;
  }
}
