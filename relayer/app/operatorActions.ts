// What an operator may do to a message, in one place for the CLI and the ops server's actions:
// release or reject a held one, retry one that is waiting (now, not at its next attempt time),
// and deny one (it becomes dead with the operator's reason and is never retried). Each returns a
// sentence for the operator and throws USAGE when the message is not in a state it applies to.
import { ErrorCode, IsorelayError } from '../errors/base.js';
import { DropCode } from '../messages/reasons.js';
import { DEFERRED, HoldCode, TERMINAL } from '../messages/status.js';
import type { MessageRow, Store } from '../store/store.js';

export type OperatorAction = 'release' | 'reject' | 'retry' | 'deny';
export const OPERATOR_ACTIONS: readonly OperatorAction[] = ['release', 'reject', 'retry', 'deny'];

/**
 * The message an operator names by any of its ids (as `isorelay message` finds it): the store id,
 * the LayerZero guid or Wormhole VAA id, the lockId, or the source transaction when it holds one.
 */
async function messageNamed(store: Store, key: string): Promise<MessageRow> {
  const exact = await store.get(key);
  if (exact !== undefined) return exact;
  const found = await store.findMessages(key.trim());
  if (found.length === 1) return found[0] as MessageRow;
  if (found.length === 0) throw new IsorelayError(ErrorCode.USAGE, `no message ${key} (see \`isorelay message\`, \`isorelay held list\`)`);
  throw new IsorelayError(ErrorCode.USAGE, `${key} names ${found.length} messages (${found.map((m) => m.id).join(', ')}): give one of their ids`);
}

export async function actOn(store: Store, key: string, action: OperatorAction, reason?: string): Promise<string> {
  const row = await messageNamed(store, key);
  const id = row.id;
  const note = reason === undefined || reason === '' ? '' : `: ${reason}`;
  const moved = (ok: boolean, sentence: string): string => {
    if (!ok) throw new IsorelayError(ErrorCode.USAGE, `message ${id} moved meanwhile; look again`);
    return sentence;
  };
  switch (action) {
    case 'release':
    case 'reject': {
      if (row.status !== 'held') throw new IsorelayError(ErrorCode.USAGE, `message ${id} is ${row.status}, not held`);
      if (action === 'reject') return moved(await store.transition(id, 'held', 'dead', { lastError: `rejected by the operator${note}`, reasonCode: DropCode.operatorRejected }), `rejected ${id}: it is dead and will not be delivered`);
      // A release answers a guard (the SEIZE price, a route cap) for good. It never answers the
      // source check (a message its providers disagreed on is read from them again and goes on
      // only when a quorum agrees) nor an internal error (tried again from the start, every check included).
      const answersGuard = row.holdCode === HoldCode.seizePrice || row.holdCode === HoldCode.creditCap;
      const why = row.holdCode === HoldCode.sourceDisagreement ? ': its source is read again from every provider' : row.holdCode === HoldCode.internal ? ': tried again from the start' : '';
      const patch = { guardReleased: answersGuard || row.guardReleased, attempts: 0, lastError: `released by the operator${note}${why}`, reasonCode: null };
      return moved(await store.transition(id, 'held', 'finalized', patch), `released ${id}: it will be delivered`);
    }
    case 'retry':
      if (!DEFERRED.has(row.status)) throw new IsorelayError(ErrorCode.USAGE, `message ${id} is ${row.status}: only a waiting or failed message can be retried now${row.status === 'held' ? '; a held one is released' : ''}`);
      // The code stays: the message is still waiting (or failed) for the same reason until its step runs.
      return moved(await store.transition(id, row.status, row.status, { nextAttemptAt: 0, lastError: `retried now by the operator${note}`, reasonCode: row.reasonCode }), `retrying ${id} now (it resumes at ${row.resumeStatus ?? '?'})`);
    case 'deny':
      if (TERMINAL.has(row.status)) throw new IsorelayError(ErrorCode.USAGE, `message ${id} is already ${row.status}`);
      if (reason === undefined || reason.trim() === '') throw new IsorelayError(ErrorCode.USAGE, 'a denial needs a reason (--reason): it is kept with the message');
      return moved(
        await store.transition(id, row.status, 'dead', { lastError: `denied by the operator: ${reason}`, reasonCode: DropCode.denied }),
        `denied ${id}: it is dead and will never be retried${row.status === 'submitted' ? ` (its transaction ${row.dstTx ?? '?'} was already sent; a denial does not undo it)` : ''}`,
      );
  }
}
