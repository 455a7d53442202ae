// Why a message is where it is: one code from this set on every wait, hold, failure and drop
// (persisted in `reason_code` and in each history line, never renamed), beside its detail text.
// Operators, alerts and dashboards match on the code; people read the text.
import { HoldCode } from './status.js';

/**
 * Waits: nothing is wrong, something else has to happen first. A waiting message is in status
 * `waiting`, counts no attempt, and is logged quietly.
 */
export const WaitCode = {
  /** LayerZero: an earlier nonce of the same path has not executed yet. */
  nonceOrder: 'nonce_order',
  /** LayerZero: the packet is not verified by its DVNs yet (or no provider of theirs served it). */
  dvnVerification: 'dvn_verification',
  /** Wormhole: the guardians have not signed the VAA yet. */
  vaaUnsigned: 'vaa_unsigned',
  /** Not enough of the source chain's providers have answered for its final receipt yet. */
  sourceQuorum: 'source_quorum',
  /** The route's credit window is full: the CREDIT waits for room. */
  creditWindow: 'credit_window',
  /** The route is paused by its config. */
  routePaused: 'route_paused',
  /** The destination engine is paused. */
  enginePaused: 'engine_paused',
  /** The source vault parked a SEIZE until its oracle agrees or its guardian releases it. */
  vaultParked: 'vault_parked',
  /** A delivery was mined but is not visible on chain yet, or the message moved meanwhile. */
  confirmation: 'confirmation',
} as const;
export type WaitCode = (typeof WaitCode)[keyof typeof WaitCode];

/** Failures: retried with backoff (status `failed`), counting an attempt unless the cause is infrastructure. */
export const FailCode = {
  /** A node, the store or an API did not answer (never uses up the attempts). */
  unavailable: 'unavailable',
  /** A delivery transaction would revert for a reason that may pass. */
  revert: 'revert',
  /** A delivery transaction was mined and reverted, or did not take effect. */
  txFailed: 'tx_failed',
  /** The reconciled price disputed a SEIZE at send time. */
  priceDisputed: 'price_disputed',
  /** Many delivery steps made no progress. */
  noProgress: 'no_progress',
  /** Another instance took the message over (this one was paused past its lease). */
  leaseLost: 'lease_lost',
} as const;
export type FailCode = (typeof FailCode)[keyof typeof FailCode];

/** Drops: final outcomes other than delivery (status `dead` or `orphaned`). */
export const DropCode = {
  /** The destination will never accept it (a permanent revert, a packet not ours). */
  rejected: 'rejected',
  /** It failed `maxAttempts` times. */
  gaveUp: 'gave_up',
  /** Its source block was reorged out, or the source's providers have no such final transaction. */
  reorged: 'reorged',
  /** An operator denied it for good (`isorelay deny`). */
  denied: 'denied',
  /** An operator rejected it from held. */
  operatorRejected: 'operator_rejected',
  /** An error of ours that no retry can mend (bad config, a bad message). */
  error: 'error',
} as const;
export type DropCode = (typeof DropCode)[keyof typeof DropCode];

/**
 * Where a message is when nothing went wrong and no code was given: used by stuck detection to
 * say what an old message is still doing.
 */
export const ProgressCode = {
  /** Observed; its source block is not final yet. */
  sourceNotFinal: 'source_not_final',
  /** Final or verified, queued for its next delivery step. */
  queued: 'queued',
  /** Its delivery transaction is sent and not confirmed yet. */
  txUnconfirmed: 'tx_unconfirmed',
} as const;
export type ProgressCode = (typeof ProgressCode)[keyof typeof ProgressCode];

/** Every code, in one set: waits, holds, failures, drops and progress. */
export const Reason = { ...WaitCode, ...HoldCode, ...FailCode, ...DropCode, ...ProgressCode } as const;
export type ReasonCode = (typeof Reason)[keyof typeof Reason];
export const REASON_CODES: readonly ReasonCode[] = [...new Set(Object.values(Reason))];

export type ReasonKind = 'wait' | 'hold' | 'failure' | 'drop' | 'progress';

const KIND: ReadonlyMap<string, ReasonKind> = new Map<string, ReasonKind>([
  ...Object.values(WaitCode).map((c) => [c, 'wait'] as const),
  ...Object.values(HoldCode).map((c) => [c, 'hold'] as const),
  ...Object.values(FailCode).map((c) => [c, 'failure'] as const),
  ...Object.values(DropCode).map((c) => [c, 'drop'] as const),
  ...Object.values(ProgressCode).map((c) => [c, 'progress'] as const),
]);

export function reasonKind(code: string): ReasonKind | undefined {
  return KIND.get(code);
}

export function isReasonCode(code: string): code is ReasonCode {
  return KIND.has(code);
}
