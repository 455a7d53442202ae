// The storage seam: messages and their state machine, scan checkpoints, recent block hashes,
// and the transactions we signed. SQLite is the embedded implementation; PostgreSQL comes later.
import type { HoldCode, MessageStatus } from '../messages/status.js';

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
  /** For `failed`: the status it returns to when retried. */
  resumeStatus: MessageStatus | null;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
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
}

export interface MessageSequence {
  /** e.g. a LayerZero path: srcEid, sender, dstEid, receiver. */
  path: string;
  nonce: bigint;
}

export type NewMessage = Omit<MessageRow, 'status' | 'resumeStatus' | 'attempts' | 'nextAttemptAt' | 'lastError' | 'dstTx' | 'observedAt' | 'updatedAt' | 'deliveredAt' | 'guardReleased' | 'holdCode'>;

/** `payload`, `messageId` and `kind` change only when a quorum of independent providers corrected what one provider served. */
export type MessagePatch = Partial<Pick<MessageRow, 'resumeStatus' | 'attempts' | 'nextAttemptAt' | 'lastError' | 'dstTx' | 'deliveredAt' | 'srcBlock' | 'srcBlockHash' | 'guardReleased' | 'payload' | 'messageId' | 'kind' | 'holdCode' | 'srcTx' | 'logIndex' | 'sequence'>>;

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

export interface Store {
  /** Inserts new observations; an orphaned message seen again in a new block comes back to life. Returns ids inserted or revived. */
  observe(rows: NewMessage[], now: number): string[];
  get(id: string): MessageRow | undefined;
  /** Messages in `status`, plus `failed` ones due to resume into it, oldest first. */
  due(status: MessageStatus, now: number, limit: number, route?: string): MessageRow[];
  /** Moves a message if it is still in `from`; throws on a forbidden transition. False if it moved on meanwhile. */
  transition(id: string, from: MessageStatus, to: MessageStatus, patch?: MessagePatch, now?: number): boolean;
  /** Messages of one chain observed at or above a block (a reorg rewind). */
  observedFrom(srcChain: string, block: bigint): MessageRow[];
  /** The message with the highest nonce of a sequence path that a reorg has not orphaned. */
  lastInSequence(path: string): MessageRow | undefined;
  list(filter: { route?: string; status?: MessageStatus; limit?: number }): MessageRow[];
  /** Messages of a route past their first delivery step (verified, submitted, delivered, or failed on the way) that moved at or after `since` (ms). */
  sentSince(route: string, since: number): MessageRow[];
  countsByRoute(): RouteCounts[];
  /** When the oldest message of a route still on its way (not delivered, dead, orphaned or held) was observed (ms), or null. */
  oldestMoving(route: string): number | null;

  getCheckpoint(stream: string): bigint | undefined;
  setCheckpoint(stream: string, block: bigint): void;
  saveBlockHashes(chain: string, blocks: { number: bigint; hash: string }[]): void;
  blockHash(chain: string, number: bigint): string | undefined;
  /** Remembered hashes above a block, newest first. */
  recentBlocks(chain: string, above: bigint): { number: bigint; hash: string }[];
  /** Forgets hashes at or above a block, and below `keepFrom` (pruning). */
  forgetBlocks(chain: string, fromBlock: bigint): void;
  pruneBlocks(chain: string, below: bigint): void;

  recordTx(tx: TxRecord): void;
  setTxStatus(hash: string, status: TxRecord['status']): void;
  pendingTxs(chain: string, sender: string): TxRecord[];

  /** Runs `fn` in one transaction. */
  atomically<T>(fn: () => T): T;
  close(): void;
}
