// Runs one stage: claims due messages (never one already in flight), runs the step on each
// concurrently, persists the closed result as a transition and emits it. Backoff lives here only.
import { errorSummary, isRetryable } from '../errors/base.js';
import type { MessageStatus } from '../messages/status.js';
import type { MessageRow, Store } from '../store/store.js';
import type { EventBus } from './events.js';
import { backoffMs, type RetryPolicy, type StepResult } from './stage.js';

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
      this.pump();
    });
  }

  get busy(): number {
    return this.inFlight.size;
  }

  /** Starts steps for due messages; returns how many were started. Does not wait for them. */
  pump(): number {
    const now = (this.o.now ?? Date.now)();
    let started = 0;
    for (const route of this.o.routes()) {
      const room = this.o.concurrency - this.inFlight.size;
      if (room <= 0) break;
      const due = this.o.statuses.flatMap((status) => this.o.store.due(status, now, room + this.inFlight.size, route));
      for (const row of due) {
        if (this.inFlight.size >= this.o.concurrency) break;
        if (this.inFlight.has(row.id)) continue;
        const run = this.runOne(row).finally(() => this.inFlight.delete(row.id));
        this.inFlight.set(row.id, run);
        started++;
      }
    }
    return started;
  }

  /** Waits for every step in flight (used on stop and in tests). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  private async runOne(row: MessageRow): Promise<void> {
    let result: StepResult;
    try {
      result = await this.o.step(row);
    } catch (e) {
      const retryable = isRetryable(e);
      this.o.events.emit({ type: 'stage.error', stage: this.o.name, chain: row.dstChain, error: errorSummary(e), retryable });
      result = retryable ? { kind: 'retry', reason: errorSummary(e), infrastructure: true } : { kind: 'drop', to: 'dead', reason: errorSummary(e) };
    }
    // The step may have moved the message itself (a multi-step delivery): re-read it.
    const current = this.o.store.get(row.id) ?? row;
    applyResult(this.o.store, this.o.events, current, result, this.o.retry, (this.o.now ?? Date.now)());
  }
}

/** Persists a step result as a transition of `row` from its current status, and emits it. */
export function applyResult(store: Store, events: EventBus, row: MessageRow, result: StepResult, retry: RetryPolicy, now: number): void {
  const from = row.status;
  const move = (to: MessageStatus, patch: Parameters<Store['transition']>[3], reason?: string) => {
    if (store.transition(row.id, from, to, patch, now)) {
      events.emit({ type: 'message.moved', id: row.id, route: row.route, from, to, ...(reason === undefined ? {} : { reason }), ageMs: now - row.observedAt });
    }
  };
  const resume = from === 'failed' ? (row.resumeStatus ?? 'observed') : from;
  switch (result.kind) {
    case 'advance':
      if (result.to !== from) move(result.to, { ...result.patch, lastError: null }, result.reason);
      return;
    case 'wait':
      move('failed', { resumeStatus: resume, nextAttemptAt: now + retry.baseMs, lastError: result.reason }, result.reason);
      return;
    case 'retry': {
      const attempts = row.attempts + 1;
      if (attempts >= retry.maxAttempts && result.infrastructure !== true) {
        move('dead', { attempts, lastError: `gave up after ${attempts} attempts: ${result.reason}` }, result.reason);
        return;
      }
      move('failed', { resumeStatus: resume, attempts, nextAttemptAt: now + backoffMs(retry, attempts), lastError: result.reason }, result.reason);
      return;
    }
    case 'drop':
      move(result.to, { lastError: result.reason }, result.reason);
      return;
    case 'hold':
      move('held', { lastError: result.reason, holdCode: result.code }, result.reason);
      return;
  }
}
