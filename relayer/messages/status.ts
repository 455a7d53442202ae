// The message state machine of DESIGN.md: statuses (persisted names, never renamed) and the
// transitions a stage may make. The store refuses any other transition.

export const MessageStatus = {
  observed: 'observed',
  finalized: 'finalized',
  verified: 'verified',
  submitted: 'submitted',
  delivered: 'delivered',
  /** Not ready yet (an earlier nonce, unsigned VAA, a full credit window…): looked at again later, no attempt counted. */
  waiting: 'waiting',
  failed: 'failed',
  dead: 'dead',
  orphaned: 'orphaned',
  held: 'held',
} as const;
export type MessageStatus = (typeof MessageStatus)[keyof typeof MessageStatus];
export const MESSAGE_STATUSES = Object.values(MessageStatus);

/**
 * Why a message is held (persisted names, never renamed): the providers of its source chain did
 * not agree on it (nothing was signed), its SEIZE price is disputed by the source chain's oracle,
 * its CREDIT is above its route's per-message cap or whole window, or a step kept failing on an
 * error that is not one of ours (internal).
 */
export const HoldCode = {
  sourceDisagreement: 'source_disagreement',
  seizePrice: 'seize_price',
  creditCap: 'credit_cap',
  /** A step kept failing on an error that is not one of ours (a bug, an unexpected answer): parked, not retried forever. */
  internal: 'internal',
} as const;
export type HoldCode = (typeof HoldCode)[keyof typeof HoldCode];

/** Terminal statuses: nothing moves a message out of them (an operator may, for `held`). */
export const TERMINAL: ReadonlySet<MessageStatus> = new Set(['delivered', 'dead', 'orphaned']);

/**
 * `waiting` and `failed` are a message due again at `next_attempt_at`: it returns to the status it
 * waited or failed in, which is kept in `resume_status`. `waiting` is nothing wrong (something
 * else must happen first: no attempt is counted); `failed` is a retry after an error. `observed → observed` is a re-observation (a rescan);
 * `finalized → finalized` is a stored observation corrected by a quorum of providers.
 */
const ALLOWED: Readonly<Record<MessageStatus, readonly MessageStatus[]>> = {
  observed: ['observed', 'finalized', 'orphaned', 'waiting', 'failed', 'dead'],
  finalized: ['finalized', 'verified', 'submitted', 'delivered', 'held', 'waiting', 'failed', 'dead', 'orphaned'],
  verified: ['submitted', 'delivered', 'held', 'waiting', 'failed', 'dead'],
  submitted: ['delivered', 'verified', 'waiting', 'failed', 'dead'],
  waiting: ['observed', 'finalized', 'verified', 'submitted', 'delivered', 'held', 'waiting', 'failed', 'dead', 'orphaned'],
  failed: ['observed', 'finalized', 'verified', 'submitted', 'delivered', 'held', 'waiting', 'failed', 'dead', 'orphaned'],
  held: ['finalized', 'verified', 'dead'],
  delivered: [],
  dead: [],
  orphaned: [],
};

export function canTransition(from: MessageStatus, to: MessageStatus): boolean {
  return ALLOWED[from].includes(to);
}

/** Statuses that return to `resume_status` at `next_attempt_at`. */
export const DEFERRED: ReadonlySet<MessageStatus> = new Set(['waiting', 'failed']);
