// The storage seam: messages and their state machine, scan checkpoints, recent block hashes,
// the transactions we signed, and the leases by which several instances share the work. SQLite is
// the embedded implementation (one process); PostgreSQL is the shared one (several instances).
// Every call is asynchronous; `atomically` hands its function a store bound to one transaction.
import { ErrorCode, IsorelayError } from '../errors/base.js';
import type { ReasonCode } from '../messages/reasons.js';
import { MESSAGE_STATUSES, type HoldCode, type MessageStatus } from '../messages/status.js';

export interface MessageRow {
  /** `${transport}:${transportId}` — unique per cross-chain message. */
  id: string;
  route: string;
  transport: string;
  /** The transport's own id: the LayerZero guid, the Wormhole VAA id. */
  transportId: string;
  srcChain: string;
  dstChain: string;
  /** The message id of docs/messages.md (a CREDIT's lockId); null when the payload is not ours. */
  messageId: string | null;
  kind: string | null;
  srcTx: string;
  srcBlock: bigint;
  srcBlockHash: string;
  logIndex: number;
  /** Transport-specific bytes needed to deliver (the LayerZero encoded packet). */
  payload: string;
  status: MessageStatus;
  /** For `waiting` and `failed`: the status it returns to when due again. */
  resumeStatus: MessageStatus | null;
  attempts: number;
  nextAttemptAt: number;
  /** The detail text of the last wait, hold, failure or drop (null once it moves on). */
  lastError: string | null;
  /** The code of the last wait, hold, failure or drop (messages/reasons.ts), beside `lastError`. */
  reasonCode: ReasonCode | null;
  dstTx: string | null;
  observedAt: number;
  updatedAt: number;
  deliveredAt: number | null;
  /** The transport's ordered sequence, when it has one: gaps in it mean missed logs. */
  sequence: MessageSequence | null;
  /** An operator released it from `held`: the liquidation guard lets it through. */
  guardReleased: boolean;
  /** Why the message is (or was last) held; kept after a release so that the next step knows what the operator answered. */
  holdCode: HoldCode | null;
  /** The lease this row was claimed under (set by `claim`), which fences every write made for it. */
  lease: Fence | null;
}

/**
 * Who may write for a claimed message or a named lease: the owner (one instance's run) and the
 * epoch it was granted. A claim by another owner bumps the epoch, so a write under an older
 * fence (an instance paused past its lease) changes nothing.
 */
export interface Fence {
  owner: string;
  epoch: number;
}

/** A named lease (a source stream's scanner, the keeper, a gas key) as granted. */
export interface Lease extends Fence {
  name: string;
  /** Milliseconds of validity left when granted, by the store's clock. */
  ttlMs: number;
}

/**
 * A fence no longer holds: another instance took the work over. Thrown inside `atomically` (the
 * transaction is undone) and before a transaction would be signed (nothing is sent).
 */
export class LeaseLostError extends IsorelayError {
  override readonly name = 'LeaseLostError';
  constructor(readonly lease: string) {
    super(ErrorCode.LEASE_LOST, `the lease on ${lease} was lost: another instance holds it now`);
  }
}

export interface MessageSequence {
  /** e.g. a LayerZero path: srcEid, sender, dstEid, receiver. */
  path: string;
  nonce: bigint;
}

export type NewMessage = Omit<MessageRow, 'lease' | 'status' | 'resumeStatus' | 'attempts' | 'nextAttemptAt' | 'lastError' | 'reasonCode' | 'dstTx' | 'observedAt' | 'updatedAt' | 'deliveredAt' | 'guardReleased' | 'holdCode'>;

/** `payload`, `messageId` and `kind` change only when a quorum of independent providers corrected what one provider served. */
export type MessagePatch = Partial<Pick<MessageRow, 'resumeStatus' | 'attempts' | 'nextAttemptAt' | 'lastError' | 'reasonCode' | 'dstTx' | 'deliveredAt' | 'srcBlock' | 'srcBlockHash' | 'guardReleased' | 'payload' | 'messageId' | 'kind' | 'holdCode' | 'srcTx' | 'logIndex' | 'sequence'>>;

export interface TxRecord {
  chain: string;
  sender: string;
  nonce: number;
  hash: string;
  raw: string;
  purpose: string;
  /** Comma-separated message ids this transaction serves. */
  messages: string;
  status: 'pending' | 'mined' | 'replaced' | 'dropped';
  createdAt: number;
}

export interface RouteCounts {
  route: string;
  counts: Partial<Record<MessageStatus, number>>;
  oldestPendingAt: number | null;
}

/** One move of a message, as the explorer shows it. */
export interface MessageEvent {
  at: number;
  /** Null for the first observation. */
  from: MessageStatus | null;
  to: MessageStatus;
  reason: string | null;
  /** The reason's code (messages/reasons.ts), when the move had one. */
  code: ReasonCode | null;
  /** The destination transaction recorded with the move, if any. */
  tx: string | null;
  /** The instance (lease owner) that made the move, when it held a claim. */
  by: string | null;
}

export interface UnfinishedCount {
  status: MessageStatus;
  reasonCode: ReasonCode | null;
  holdCode: HoldCode | null;
  n: number;
}

export interface CreditPass {
  route: string;
  id: string;
  token: string;
  amount: bigint;
  windowMs: number;
  /** Null: passes whatever the window holds (an operator's release), and still counts. */
  max: bigint | null;
}

export interface ClaimQuery {
  statuses: readonly MessageStatus[];
  routes: readonly string[];
  /** For `waiting` and `failed` rows: due from their next attempt on (ms). */
  now: number;
  limit: number;
  owner: string;
  ttlMs: number;
}

export interface Store {
  /** `sqlite` (one process) or `postgres` (shared by instances). */
  readonly kind: 'sqlite' | 'postgres';
  /** Inserts new observations; an orphaned message seen again in a new block comes back to life. Returns ids inserted or revived. */
  observe(rows: NewMessage[], now: number): Promise<string[]>;
  get(id: string): Promise<MessageRow | undefined>;
  /** Messages in `status`, plus `waiting` and `failed` ones due to resume into it, oldest first (a read: nothing is claimed). */
  due(status: MessageStatus, now: number, limit: number, route?: string): Promise<MessageRow[]>;
  /**
   * Claims due messages of `routes` in any of `statuses` (as `due`, with `failed` ones due to
   * resume into them) that no other run holds, for `ttlMs` by the store's clock: each comes back
   * with its `lease`, a new epoch. Oldest observation first (fair across routes), then source
   * order. Rows another instance holds are skipped, not waited for (FOR UPDATE SKIP LOCKED), and
   * so is every message of a sequence path another owner holds a claim on (path affinity: a
   * LayerZero path executes in nonce order, and split between instances its messages wait on each other).
   */
  claim(q: ClaimQuery): Promise<MessageRow[]>;
  /** Extends the leases still held as claimed; returns the ids whose lease held. */
  renewClaims(claims: readonly { id: string; fence: Fence }[], ttlMs: number): Promise<Set<string>>;
  /** Gives a claim back (its step ended): another instance may take the message at once. */
  releaseClaim(id: string, fence: Fence): Promise<void>;
  /** Whether every claim still holds for at least `marginMs` more (checked before a transaction is signed). */
  claimsHeld(claims: readonly { id: string; fence: Fence }[], marginMs: number): Promise<boolean>;
  /**
   * Moves a message if it is still in `from`, and, with a fence, only if the fence still holds it;
   * throws on a forbidden transition. False if it moved on meanwhile or the fence was lost.
   */
  transition(id: string, from: MessageStatus, to: MessageStatus, patch?: MessagePatch, now?: number, fence?: Fence | null): Promise<boolean>;
  /** Messages of one chain observed at or above a block (a reorg rewind). */
  observedFrom(srcChain: string, block: bigint): Promise<MessageRow[]>;
  /** The message with the highest nonce of a sequence path that a reorg has not orphaned. */
  lastInSequence(path: string): Promise<MessageRow | undefined>;
  list(filter: { route?: string; status?: MessageStatus; limit?: number }): Promise<MessageRow[]>;
  /** Messages of a route past their first delivery step (verified, submitted, delivered, or failed on the way) that moved at or after `since` (ms). */
  sentSince(route: string, since: number): Promise<MessageRow[]>;
  countsByRoute(): Promise<RouteCounts[]>;
  /** When the oldest message of a route still on its way (not delivered, dead, orphaned or held) was observed (ms), or null. */
  oldestMoving(route: string): Promise<number | null>;
  /**
   * Messages of `route` observed before `before` (ms) and not delivered, dead or orphaned, oldest
   * first, at most `limit` (stuck detection), and how many there are in all by status and code.
   */
  unfinished(route: string, before: number, limit: number): Promise<{ rows: MessageRow[]; counts: UnfinishedCount[] }>;

  getCheckpoint(stream: string): Promise<bigint | undefined>;
  setCheckpoint(stream: string, block: bigint): Promise<void>;
  saveBlockHashes(chain: string, blocks: { number: bigint; hash: string }[]): Promise<void>;
  blockHash(chain: string, number: bigint): Promise<string | undefined>;
  /** Remembered hashes above a block, newest first. */
  recentBlocks(chain: string, above: bigint): Promise<{ number: bigint; hash: string }[]>;
  /** Forgets hashes at or above a block. */
  forgetBlocks(chain: string, fromBlock: bigint): Promise<void>;
  /** Forgets hashes below a block (pruning). */
  pruneBlocks(chain: string, below: bigint): Promise<void>;

  /**
   * A route's credit window, shared by every instance, timed by the store's clock (instances whose
   * clocks disagree still share one window). Under a lock on the route: `id` passes at once if the
   * ledger already counts it for this token at least at `amount`; otherwise it passes if `amount`
   * fits under `max` with what else passed for this token in the last `windowMs` (then the ledger
   * counts it at `amount`, replacing what it counted for `id` before); otherwise nothing is written.
   */
  passCredit(p: CreditPass): Promise<{ passed: boolean; used: bigint }>;

  recordTx(tx: TxRecord): Promise<void>;
  setTxStatus(hash: string, status: TxRecord['status']): Promise<void>;
  pendingTxs(chain: string, sender: string): Promise<TxRecord[]>;

  /**
   * Takes the named lease for `owner`, or extends it if `owner` holds it; null while another
   * owner's lease is unexpired. The epoch changes only when the owner does.
   */
  acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | null>;
  /** Inside `atomically`: throws LeaseLostError unless `fence` still holds the named lease (and keeps it until commit). */
  assertLease(name: string, fence: Fence): Promise<void>;
  /** Gives a named lease up (a clean stop), if `owner` still holds it. */
  releaseLease(name: string, owner: string): Promise<void>;
  /** Every named lease, for status. */
  leases(): Promise<(Lease & { expiresAt: number })[]>;

  /**
   * Routes halted by an incident (a reorg beyond finality), for every instance: halted here, the
   * route is halted everywhere within a heartbeat, and stays so across restarts until an operator resumes it.
   */
  haltRoute(route: string, reason: string): Promise<void>;
  haltedRoutes(): Promise<{ route: string; reason: string; at: number }[]>;
  /** Lifts a halt (the operator's decision); false if the route was not halted. */
  resumeRoute(route: string): Promise<boolean>;

  /** A message's history, oldest first: every move it made, why, and by whom (the explorer). */
  history(id: string): Promise<MessageEvent[]>;
  /** Messages by any of their ids: the store id, the transport's id (guid, VAA id), the message id (lockId) or the source transaction. */
  findMessages(key: string): Promise<MessageRow[]>;
  /** The transactions signed for a message, oldest first. */
  txsFor(id: string): Promise<TxRecord[]>;

  /** Runs `fn` in one transaction, with a store bound to it; a throw undoes everything. */
  atomically<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The order claimed messages are started in: oldest observation first, then the order they were emitted on their chain. */
export function byClaimOrder(a: MessageRow, b: MessageRow): number {
  if (a.observedAt !== b.observedAt) return a.observedAt - b.observedAt;
  return a.srcBlock < b.srcBlock ? -1 : a.srcBlock > b.srcBlock ? 1 : a.logIndex - b.logIndex;
}

/** Per-(route, status) counts folded into one entry per route. */
export function foldCounts(rows: readonly { route: string; status: MessageStatus; n: number | string; oldest: number | string | null }[]): RouteCounts[] {
  const byRoute = new Map<string, RouteCounts>();
  for (const r of rows) {
    const entry = byRoute.get(r.route) ?? { route: r.route, counts: {}, oldestPendingAt: null };
    if (MESSAGE_STATUSES.includes(r.status)) entry.counts[r.status] = Number(r.n);
    if (r.oldest !== null) entry.oldestPendingAt = Math.min(entry.oldestPendingAt ?? Number(r.oldest), Number(r.oldest));
    byRoute.set(r.route, entry);
  }
  return [...byRoute.values()];
}
