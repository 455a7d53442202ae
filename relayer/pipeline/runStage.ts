// Runs one stage: claims due messages in leases (never one in flight here or held by another
// instance), runs the step on each concurrently, persists the closed result as a transition fenced
// by the claim, emits it, and gives the claim back. Backoff lives here only.
import { ErrorCode, errorSummary, isIsorelayError, isRetryable, IsorelayError } from '../errors/base.js';
import { DropCode, FailCode, type ReasonCode } from '../messages/reasons.js';
import { DEFERRED, HoldCode, type MessageStatus } from '../messages/status.js';
import type { LeaseBook } from '../store/leases.js';
import type { Fence, MessageRow, Store } from '../store/store.js';
import type { EventBus } from './events.js';
import { backoffMs, waitDelayMs, type RetryPolicy, type StepResult } from './stage.js';

export interface StageOptions {
  name: string;
  /** The statuses this stage consumes (one runner, so a message is never in two steps at once). */
  statuses: readonly MessageStatus[];
  store: Store;
  events: EventBus;
  retry: RetryPolicy;
  /** The most messages in flight in this stage at once. */
  concurrency: number;
  /** Only messages of these routes (a halted route is left out). */
  routes: () => readonly string[];
  step: (row: MessageRow) => Promise<StepResult>;
  /** This instance's leases: claims are registered here, renewed by its heartbeat, checked before sends. */
  book: LeaseBook;
  /** False while this instance must not take work (its gas key is not leased, the store is down). */
  canClaim?: () => boolean;
  now?: () => number;
}

export class StageRunner {
  private readonly inFlight = new Map<string, Promise<void>>();
  private pumpQueued = false;

  constructor(private readonly o: StageOptions) {}

  /** A pump soon, however many events ask for one meanwhile. */
  requestPump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.pump().catch(() => undefined);
    });
  }

  get busy(): number {
    return this.inFlight.size;
  }

  private pumping: Promise<number> | undefined;

  /** Claims due messages and starts their steps; returns how many were started. Does not wait for them. */
  pump(): Promise<number> {
    // One claim round at a time: two at once would both fill the same room.
    this.pumping ??= this.claimAndStart().finally(() => (this.pumping = undefined));
    return this.pumping;
  }

  private async claimAndStart(): Promise<number> {
    if (this.o.canClaim?.() === false) return 0;
    const now = (this.o.now ?? Date.now)();
    let started = 0;
    try {
      const room = this.o.concurrency - this.inFlight.size;
      if (room <= 0) return 0;
      const requestedAt = this.o.book.now();
      // One claim for every route and status of the stage: a round trip per pump, not per route.
      const claimed = await this.o.store.claim({ statuses: this.o.statuses, routes: this.o.routes(), now, limit: room, owner: this.o.book.owner, ttlMs: this.o.book.ttlMs });
      for (const row of claimed) {
        const fence = row.lease as Fence;
        if (this.inFlight.has(row.id)) {
          // Its claim ran out here while its step still runs: that step's writes are fenced now; leave it be.
          await this.o.store.releaseClaim(row.id, fence);
          continue;
        }
        this.o.book.claimed(row.id, fence, requestedAt);
        const run = this.runOne(row, fence).finally(() => {
          this.inFlight.delete(row.id);
          return this.o.book.release(row.id);
        });
        this.inFlight.set(row.id, run);
        started++;
      }
    } catch (e) {
      // The store is away (or failed): nothing claimed, nothing to undo; the next pump tries again.
      this.o.events.emit({ type: 'stage.error', stage: this.o.name, error: errorSummary(e), retryable: isRetryable(e) });
    }
    return started;
  }

  /** Waits for every step in flight (used on stop and in tests). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0 || this.pumping !== undefined) {
      await this.pumping;
      await Promise.allSettled([...this.inFlight.values()]);
    }
  }

  private async runOne(row: MessageRow, fence: Fence): Promise<void> {
    let result: StepResult;
    try {
      result = await this.o.step(row);
    } catch (e) {
      // Another instance took the message over (this one was paused past its claim): its outcome is theirs to record.
      if (isIsorelayError(e, ErrorCode.LEASE_LOST)) {
        this.o.events.emit({ type: 'stage.error', stage: this.o.name, chain: row.dstChain, error: errorSummary(e), retryable: true });
        return;
      }
      const retryable = isRetryable(e);
      this.o.events.emit({ type: 'stage.error', stage: this.o.name, chain: row.dstChain, error: errorSummary(e), retryable });
      // Not one of ours (a plain Error, a TypeError): retried a few times, then parked for an operator.
      result = !(e instanceof IsorelayError)
        ? { kind: 'retry', code: HoldCode.internal, reason: `internal error: ${errorSummary(e)}`, internal: true }
        : retryable ? { kind: 'retry', code: FailCode.unavailable, reason: errorSummary(e), infrastructure: true } : { kind: 'drop', to: 'dead', code: DropCode.error, reason: errorSummary(e) };
    }
    try {
      // The step may have moved the message itself (a multi-step delivery): re-read it.
      const current = (await this.o.store.get(row.id)) ?? row;
      await applyResult(this.o.store, this.o.events, current, result, this.o.retry, (this.o.now ?? Date.now)(), fence);
    } catch (e) {
      // The store went away: the claim runs out and the message is claimed again (its step is safe to repeat).
      this.o.events.emit({ type: 'stage.error', stage: this.o.name, chain: row.dstChain, error: errorSummary(e), retryable: isRetryable(e) });
    }
  }
}

/** Persists a step result as a transition of `row` from its current status (fenced by the claim), and emits it. */
export async function applyResult(store: Store, events: EventBus, row: MessageRow, result: StepResult, retry: RetryPolicy, now: number, fence: Fence | null): Promise<void> {
  const from = row.status;
  const move = async (to: MessageStatus, patch: Parameters<Store['transition']>[3], code?: ReasonCode, reason?: string) => {
    if (await store.transition(row.id, from, to, { ...patch, reasonCode: code ?? null }, now, fence)) {
      events.emit({ type: 'message.moved', id: row.id, route: row.route, from, to, ...(code === undefined ? {} : { code }), ...(reason === undefined ? {} : { reason }), ageMs: now - row.observedAt });
    }
  };
  const resume = DEFERRED.has(from) ? (row.resumeStatus ?? 'observed') : from;
  switch (result.kind) {
    case 'advance':
      if (result.to !== from) await move(result.to, { ...result.patch, lastError: null }, undefined, result.reason);
      return;
    case 'wait':
      await move('waiting', { resumeStatus: resume, nextAttemptAt: now + waitDelayMs(retry, now - row.observedAt, result.code), lastError: result.reason }, result.code, result.reason);
      return;
    case 'retry': {
      const attempts = row.attempts + 1;
      if (attempts >= retry.maxAttempts && result.internal === true) {
        const reason = `parked after ${attempts} attempts: ${result.reason}`;
        await move('held', { attempts, lastError: reason, holdCode: HoldCode.internal }, HoldCode.internal, reason);
        events.emit({ type: 'incident', chain: row.dstChain, code: 'INTERNAL_ERROR', message: `${row.id} on ${row.route}: ${reason}; see isorelay held list` });
        return;
      }
      if (attempts >= retry.maxAttempts && result.infrastructure !== true) {
        const reason = `gave up after ${attempts} attempts: ${result.reason}`;
        await move('dead', { attempts, lastError: reason }, DropCode.gaveUp, reason);
        return;
      }
      await move('failed', { resumeStatus: resume, attempts, nextAttemptAt: now + backoffMs(retry, attempts), lastError: result.reason }, result.code, result.reason);
      return;
    }
    case 'drop':
      await move(result.to, { lastError: result.reason }, result.code, result.reason);
      return;
    case 'hold':
      await move('held', { lastError: result.reason, holdCode: result.code }, result.code, result.reason);
      return;
  }
}
