// The closed result of one step on one message, and the retry policy that applies it.
import type { MessagePatch } from '../store/store.js';
import type { HoldCode, MessageStatus } from '../messages/status.js';

export type StepResult =
  /** The message moved forward. */
  | { kind: 'advance'; to: MessageStatus; patch?: MessagePatch; reason?: string }
  /** Not ready yet (no attempt counted): look again after a short delay. */
  | { kind: 'wait'; reason: string }
  /**
   * A passing failure: retry with backoff, counting an attempt. `infrastructure` failures (a
   * node or an API down) back off the same way but never use up the attempts: an outage must
   * not turn deliverable messages dead. `internal` failures (an error that is not one of ours:
   * a bug, an answer nothing expected) count attempts too, and then park the message as held
   * (`internal`) with an incident instead of retrying forever or calling it dead.
   */
  | { kind: 'retry'; reason: string; infrastructure?: boolean; internal?: boolean }
  /** A permanent outcome: dead (with the reason) or orphaned. */
  | { kind: 'drop'; to: 'dead' | 'orphaned'; reason: string }
  /** A guard said no, or the source's providers disagreed: held for an operator (release or reject). */
  | { kind: 'hold'; code: HoldCode; reason: string };

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
}

/** Exponential backoff with ±20 % jitter, so that retries of many messages do not align. */
export function backoffMs(policy: RetryPolicy, attempts: number, random: () => number = Math.random): number {
  const raw = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(raw * (0.8 + 0.4 * random()));
}
