// `isorelay held list|release|reject`: the operator's answer to a held message — a SEIZE the
// liquidation guard held (the source chain's oracle disagreed with the price the engine liquidated
// at), a CREDIT above its route's per-message cap, or a message whose source chain's providers
// disagreed (nothing was signed for it). Release delivers it without asking the guard
// again (a released CREDIT still counts in its route's window); reject makes it dead, with the
// operator's reason. And `isorelay retry` (a waiting message now) and `isorelay deny` (dead, never
// retried): every action is app/operatorActions.ts's, shared with the ops server.
import { actOn } from '../../app/operatorActions.js';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import { toJson } from '../../ops/httpServer.js';
import type { MessageRow } from '../../store/store.js';
import { openStoreOf } from './storeOf.js';

export interface HeldOptions {
  config: string;
  json?: boolean;
  reason?: string;
}

export function formatHeld(rows: readonly MessageRow[]): string {
  if (rows.length === 0) return 'no held messages';
  return rows
    .map((r) => `${r.id}\n  ${r.kind ?? '?'} on ${r.route} (message ${r.messageId ?? '?'}), held since ${new Date(r.updatedAt).toISOString()}\n  why: [${r.holdCode ?? '?'}] ${r.lastError ?? '?'}`)
    .join('\n');
}

export async function heldListCommand(opts: HeldOptions): Promise<void> {
  const store = await openStoreOf(opts.config, 'readonly');
  try {
    const rows = await store.list({ status: 'held' });
    process.stdout.write(`${opts.json === true ? toJson(rows.map(({ payload: _p, ...r }) => r)) : formatHeld(rows)}\n`);
  } finally {
    await store.close();
  }
}

/** Release or reject, and say what happened. */
async function decide(id: string, opts: HeldOptions, action: 'release' | 'reject'): Promise<void> {
  const store = await openStoreOf(opts.config, 'operator');
  try {
    process.stdout.write(`${await actOn(store, id, action, opts.reason)}\n`);
  } finally {
    await store.close();
  }
}

export function heldReleaseCommand(id: string, opts: HeldOptions): Promise<void> {
  return decide(id, opts, 'release');
}

export function heldRejectCommand(id: string, opts: HeldOptions): Promise<void> {
  return decide(id, opts, 'reject');
}

/** `isorelay retry ID` or `isorelay retry --route R [--status waiting|failed]` (every such message of a route): now, not at their next attempt time. */
export async function retryCommand(id: string | undefined, opts: HeldOptions & { route?: string; status?: string }): Promise<void> {
  const store = await openStoreOf(opts.config, 'operator');
  try {
    if (id !== undefined) {
      process.stdout.write(`${await actOn(store, id, 'retry', opts.reason)}\n`);
      return;
    }
    if (opts.route === undefined) throw new IsorelayError(ErrorCode.USAGE, 'give a message id, or --route ROUTE to retry every waiting and failed message of a route');
    const statuses: ('waiting' | 'failed')[] | null = opts.status === undefined ? ['waiting', 'failed'] : opts.status === 'waiting' || opts.status === 'failed' ? [opts.status] : null;
    if (statuses === null) throw new IsorelayError(ErrorCode.USAGE, `--status must be waiting or failed, not ${opts.status ?? ''}`);
    const route = opts.route;
    const rows = (await Promise.all(statuses.map((status) => store.list({ route, status })))).flat();
    let retried = 0;
    for (const row of rows) if (await actOn(store, row.id, 'retry', opts.reason).then(() => true, () => false)) retried++;
    process.stdout.write(`retrying ${retried} ${statuses.join(' or ')} message(s) of ${opts.route} now${retried < rows.length ? ` (${rows.length - retried} moved meanwhile)` : ''}\n`);
  } finally {
    await store.close();
  }
}

/** `isorelay deny ID --reason …`: dead with the operator's reason, never retried. */
export async function denyCommand(id: string, opts: HeldOptions): Promise<void> {
  const store = await openStoreOf(opts.config, 'operator');
  try {
    process.stdout.write(`${await actOn(store, id, 'deny', opts.reason)}\n`);
  } finally {
    await store.close();
  }
}
