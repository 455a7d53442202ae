// The engine's queue of settlements as the keeper follows it: every SettlementQueued its scan reads,
// kept until the engine says it was sent (queuedSettlements(id) = 0). Each tick, those queued longer
// than the grace (their queuer, or a trader, may be sending them) and still queued are sent in one
// batch, the keeper paying; one whose send failed is tried again later, backing off. Bounded per tick.
import { abiFunction } from '../chains/abiFunction.js';
import type { ChainClient, Log } from '../chains/client.js';
import { errorSummary, isRetryable } from '../errors/base.js';
import { redactText } from '../errors/redact.js';
import type { EventBus } from '../pipeline/events.js';
import { engineIface } from './engineAbi.js';
import { parseSettlementQueued, type QueuedSettlement, type QueuedSettlements } from './queuedSettlements.js';

const queuedSettlementsFn = abiFunction(engineIface, 'queuedSettlements');
/** Settlements whose queuedSettlements(id) is read per tick (batched requests of READ_BATCH): a backlog found at start is worked off over a few ticks. */
export const PENDING_READS_PER_TICK = 500;
const READ_BATCH = 250;
/** Settlements sent per tick, in one sendQueuedMany (each send costs about 100k gas). */
export const PENDING_SENDS_PER_TICK = 50;
/** The longest wait between two tries of a settlement whose send keeps failing. */
export const PENDING_RETRY_MAX_MS = 300_000;

interface Pending {
  s: QueuedSettlement;
  /** When the keeper first read its log (this process's clock): the grace runs from there. */
  seenAt: number;
  failures: number;
  /** Not tried again before this time. */
  retryAt: number;
}

export interface PendingSettlementsOptions {
  client: Pick<ChainClient, 'calls'>;
  engine: string;
  /** The engine's chain (named in a failed pass's error). */
  chain: string;
  queued: Pick<QueuedSettlements, 'send'>;
  events: EventBus;
  chainName: (chainId: bigint) => string;
  graceMs: number;
  now?: () => number;
}

export interface PendingSweep {
  /** Queued longer than the grace and not sent when the pass ended. */
  pending: number;
  sent: bigint[];
  /** Found sent by someone else (on the engine, or skipped by the keeper's batch). */
  gone: bigint[];
  failed: { id: bigint; reason: string }[];
}

export class PendingSettlements {
  private readonly known = new Map<bigint, Pending>();
  /** Chains any queued settlement went back to: their count is announced, 0 included. */
  private readonly chains = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly o: PendingSettlementsOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Settlements the keeper knows and has not seen sent. */
  get size(): number {
    return this.known.size;
  }

  /** Takes the SettlementQueued logs of a scan of the engine (other logs are ignored). */
  observe(logs: readonly Pick<Log, 'topics' | 'data' | 'removed'>[]): void {
    for (const l of logs) {
      const s = parseSettlementQueued(l);
      if (s === null) continue;
      if (l.removed) this.known.delete(s.id);
      else if (!this.known.has(s.id)) this.known.set(s.id, { s, seenAt: this.now(), failures: 0, retryAt: 0 });
      this.chains.add(this.o.chainName(s.chainId));
    }
  }

  /** The keeper's pass (sweep): a failure is reported as a stage error, not thrown, and the next tick tries again. */
  async tick(): Promise<PendingSweep | null> {
    try {
      return await this.sweep();
    } catch (e) {
      this.o.events.emit({ type: 'stage.error', stage: 'keeper.sendQueued', chain: this.o.chain, error: redactText(errorSummary(e)), retryable: isRetryable(e) });
      return null;
    }
  }

  /**
   * One pass: reads which of those due (past the grace and their retry time, oldest id first) are
   * still queued on the engine, forgets the others, and sends the still-queued in one batch.
   */
  async sweep(): Promise<PendingSweep> {
    const now = this.now();
    const due = [...this.known.values()].filter((p) => p.seenAt + this.o.graceMs <= now && p.retryAt <= now)
      .sort((a, b) => (a.s.id < b.s.id ? -1 : 1)).slice(0, PENDING_READS_PER_TICK);
    const result: PendingSweep = { pending: 0, sent: [], gone: [], failed: [] };
    const queued: Pending[] = [];
    for (let i = 0; i < due.length; i += READ_BATCH) {
      const chunk = due.slice(i, i + READ_BATCH);
      const answers = await this.o.client.calls(chunk.map((p) => ({ to: this.o.engine, data: queuedSettlementsFn.encode([p.s.id]) })));
      chunk.forEach((p, j) => {
        if (BigInt(queuedSettlementsFn.decode(answers[j] as string)[0] as string) !== 0n) queued.push(p);
        else {
          this.known.delete(p.s.id);
          result.gone.push(p.s.id);
        }
      });
    }
    const batch = queued.slice(0, PENDING_SENDS_PER_TICK);
    if (batch.length > 0) {
      const out = await this.o.queued.send(batch.map((p) => p.s));
      for (const { id } of out.sent) this.known.delete(id);
      for (const id of out.skipped) this.known.delete(id);
      result.sent.push(...out.sent.map((x) => x.id));
      result.gone.push(...out.skipped);
      result.failed.push(...out.failed);
      for (const { id } of out.failed) {
        const p = this.known.get(id);
        if (p === undefined) continue;
        p.failures++;
        p.retryAt = now + Math.min(PENDING_RETRY_MAX_MS, Math.max(1_000, this.o.graceMs) * 2 ** (p.failures - 1));
      }
    }
    result.pending = this.announcePending(now);
    return result;
  }

  /** The gauge: per chain, those past the grace and not seen sent (a backlog not read yet counts: money owed until shown sent). */
  private announcePending(now: number): number {
    const counts = new Map<string, number>([...this.chains].map((c) => [c, 0]));
    for (const p of this.known.values()) {
      if (p.seenAt + this.o.graceMs > now) continue;
      const chain = this.o.chainName(p.s.chainId);
      counts.set(chain, (counts.get(chain) ?? 0) + 1);
    }
    this.o.events.emit({ type: 'keeper.settlementsPending', pending: [...counts].map(([chain, count]) => ({ chain, count })) });
    return [...counts.values()].reduce((a, b) => a + b, 0);
  }
}
