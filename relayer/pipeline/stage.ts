// The closed result of one step on one message, and the retry policy that applies it.
import type { MessagePatch } from '../store/store.js';
import type { DropCode, FailCode, WaitCode } from '../messages/reasons.js';
import type { HoldCode, MessageStatus } from '../messages/status.js';

export type StepResult =
  /** The message moved forward. */
  | { kind: 'advance'; to: MessageStatus; patch?: MessagePatch; reason?: string }
  /** Not ready yet (status `waiting`, no attempt counted): look again after a delay that grows with the message's age. */
  | { kind: 'wait'; code: WaitCode; reason: string }
  /**
   * A passing failure: retry with backoff, counting an attempt. `infrastructure` failures (a
   * node or an API down) back off the same way but never use up the attempts: an outage must
   * not turn deliverable messages dead. `internal` failures (an error that is not one of ours:
   * a bug, an answer nothing expected) count attempts too, and then park the message as held
   * (`internal`) with an incident instead of retrying forever or calling it dead.
   */
  | { kind: 'retry'; code: FailCode | typeof HoldCode.internal; reason: string; infrastructure?: boolean; internal?: boolean }
  /** A permanent outcome: dead (with the reason) or orphaned. */
  | { kind: 'drop'; to: 'dead' | 'orphaned'; code: DropCode; reason: string }
  /** A guard said no, or the source's providers disagreed: held for an operator (release or reject). */
  | { kind: 'hold'; code: HoldCode; reason: string };

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
}

/**
 * How long a waiting message waits before it is looked at again. A wait on work already under way
 * (an earlier nonce of its path, its own DVN verification, a delivery not visible yet) is short:
 * the base delay, so that a path's messages follow each other closely. Any other wait (a VAA the
 * guardians have not signed, a full credit window, a paused route) is looked at less often as the
 * message ages: the base delay while it is young, then a twentieth of its age (every 3 s after a
 * minute), at most `WAIT_MAX_MS` and never beyond `maxMs`. Waits count no attempt.
 */
export function waitDelayMs(policy: RetryPolicy, ageMs: number, code?: WaitCode): number {
  if (code !== undefined && SHORT_WAITS.has(code)) return Math.min(policy.maxMs, policy.baseMs);
  return Math.min(policy.maxMs, WAIT_MAX_MS, Math.max(policy.baseMs, Math.floor(ageMs / 20)));
}
export const WAIT_MAX_MS = 10_000;
const SHORT_WAITS: ReadonlySet<WaitCode> = new Set<WaitCode>(['nonce_order', 'dvn_verification', 'confirmation']);

/** Exponential backoff with ±20 % jitter, so that retries of many messages do not align. */
export function backoffMs(policy: RetryPolicy, attempts: number, random: () => number = Math.random): number {
  const raw = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(raw * (0.8 + 0.4 * random()));
}
