// `isorelay held list|release|reject`: the operator's answer to a held message — a SEIZE the
// liquidation guard held (the source chain's oracle disagreed with the price the engine liquidated
// at), a CREDIT above its route's per-message cap, or a message whose source chain's providers
// disagreed (nothing was signed for it). Release delivers it without asking the guard
// again (a released CREDIT still counts in its route's window); reject makes it dead, with the
// operator's reason.
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import { HoldCode } from '../../messages/status.js';
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

async function decide(id: string, opts: HeldOptions, to: 'finalized' | 'dead'): Promise<void> {
  const store = await openStoreOf(opts.config, 'operator');
  try {
    const row = await store.get(id);
    if (row === undefined) throw new IsorelayError(ErrorCode.USAGE, `no message ${id} (see \`isorelay held list\`)`);
    if (row.status !== 'held') throw new IsorelayError(ErrorCode.USAGE, `message ${id} is ${row.status}, not held`);
    const note = opts.reason === undefined ? '' : `: ${opts.reason}`;
    // A release answers a guard (the SEIZE price, a route cap) for good. It never answers the
    // source check: a message its providers disagreed on is read from them again, and goes on
    // only when a quorum agrees (with what was stored, or on a correction of it).
    // Nor does it answer an internal error: the message is tried again from the start, every check included.
    const answersGuard = row.holdCode === HoldCode.seizePrice || row.holdCode === HoldCode.creditCap;
    const guardReleased = answersGuard || row.guardReleased;
    const why = row.holdCode === HoldCode.sourceDisagreement ? ': its source is read again from every provider' : row.holdCode === HoldCode.internal ? ': tried again from the start' : '';
    const patch = to === 'finalized'
      ? { guardReleased, attempts: 0, lastError: `released by the operator${note}${why}` }
      : { lastError: `rejected by the operator${note}` };
    if (!(await store.transition(id, 'held', to, patch))) throw new IsorelayError(ErrorCode.USAGE, `message ${id} moved meanwhile; look again`);
    process.stdout.write(to === 'finalized' ? `released ${id}: it will be delivered\n` : `rejected ${id}: it is dead and will not be delivered\n`);
  } finally {
    await store.close();
  }
}

export function heldReleaseCommand(id: string, opts: HeldOptions): Promise<void> {
  return decide(id, opts, 'finalized');
}

export function heldRejectCommand(id: string, opts: HeldOptions): Promise<void> {
  return decide(id, opts, 'dead');
}
