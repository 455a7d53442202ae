// Waits until the destination engine has processed a lock (processed(lockId)), then says what
// became of it: credited to its position (the transaction, the collateral now), or sent back.
import { Interface } from 'ethers';
import type { ChainClient, Log } from '../chains/client.js';
import { ourArtifact } from '../chains/contractsAbi.js';
import { errorSummary, isRetryable } from '../errors/base.js';

const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);
const topic = (event: string): string => {
  const e = engineIface.getEvent(event);
  if (e === null) throw new Error(`the engine ABI has no ${event} event`);
  return e.topicHash;
};
const CREDITED = topic('PositionCredited');
const REFUNDED = topic('CreditRefunded');
const QUEUED = topic('SettlementQueued');

export interface CreditWait {
  /** The destination chain (the reads this needs of it). */
  destination: Pick<ChainClient, 'call' | 'blockNumber' | 'logsWithBounds' | 'receipt'>;
  engine: string;
  lockId: string;
  /** A destination block at or before the credit (its head before the lock was sent): the log is looked for from there. */
  fromBlock: bigint;
  /** When the wait started (the lock mined), for the elapsed times. */
  sinceMs: number;
  timeoutMs: number;
  /** How often processed(lockId) is read. */
  pollMs: number;
  /** After each read that found no credit yet, with the time waited so far. */
  onWaiting?: (elapsedMs: number) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Where the credit landed; null when its log was not found from `fromBlock` on (a node that pruned it, say). */
export interface CreditTx {
  tx: string;
  block: bigint;
}

export type CreditOutcome =
  | {
      kind: 'credited';
      positionKey: string;
      positionId: bigint;
      trader: string;
      srcChainId: bigint;
      token: string;
      amount: bigint;
      /** The position's collateral of this (source, token) once credited, this lock included. */
      collateral: bigint;
      at: CreditTx | null;
      elapsedMs: number;
    }
  | {
      /**
       * Processed but not kept: the engine takes no such token (token_not_accepted), or the position
       * is margined by another source or token (position_bound_elsewhere). A RELEASE back to the
       * trader's source is queued as `settlementId`; the operator's keeper sends it, or anyone
       * (isorelay send-queued, sendQueued).
       */
      kind: 'refunded';
      reason: 'token_not_accepted' | 'position_bound_elsewhere';
      token: string;
      amount: bigint;
      /** The queued RELEASE's id (SettlementQueued), when its log was read. */
      settlementId?: bigint;
      at: CreditTx | null;
      elapsedMs: number;
    }
  /** Processed, but its log was not found: what became of it is unknown here. */
  | { kind: 'processed'; elapsedMs: number }
  | { kind: 'timeout'; elapsedMs: number; lastError?: string };

async function processed(w: CreditWait): Promise<boolean> {
  const out = await w.destination.call(w.engine, engineIface.encodeFunctionData('processed', [w.lockId]));
  return engineIface.decodeFunctionResult('processed', out)[0] as boolean;
}

/**
 * The engine's log right after `log` (PositionCredited or CreditRefunded), when it is a
 * SettlementQueued: the refund, whose id is returned; null otherwise.
 */
async function refundQueuedAfter(w: CreditWait, log: Log): Promise<bigint | null> {
  const receipt = await w.destination.receipt(log.transactionHash);
  const next = receipt?.logs.find((l) => l.logIndex > log.logIndex && l.address.toLowerCase() === w.engine.toLowerCase());
  return next?.topics[0] === QUEUED && next.topics[1] !== undefined ? BigInt(next.topics[1]) : null;
}

async function outcome(w: CreditWait, elapsedMs: number): Promise<CreditOutcome> {
  const head = await w.destination.blockNumber();
  const { logs } = await w.destination.logsWithBounds({ address: w.engine, topics: [[CREDITED, REFUNDED], w.lockId] }, w.fromBlock, head);
  const log = logs.find((l) => !l.removed);
  if (log === undefined) return { kind: 'processed', elapsedMs };
  const at = { tx: log.transactionHash, block: log.blockNumber };
  const parsed = engineIface.parseLog(log);
  if (parsed === null) return { kind: 'processed', elapsedMs };
  const a = parsed.args;
  if (parsed.name === 'CreditRefunded') {
    const settlementId = await refundQueuedAfter(w, log);
    return { kind: 'refunded', reason: 'token_not_accepted', token: a.getValue('token') as string, amount: a.getValue('amount') as bigint, at, elapsedMs, ...(settlementId === null ? {} : { settlementId }) };
  }
  const credit = {
    positionKey: a.getValue('positionKey') as string,
    positionId: a.getValue('positionId') as bigint,
    trader: a.getValue('trader') as string,
    srcChainId: a.getValue('srcChainId') as bigint,
    token: a.getValue('token') as string,
    amount: a.getValue('amount') as bigint,
  };
  const settlementId = await refundQueuedAfter(w, log);
  if (settlementId !== null) return { kind: 'refunded', reason: 'position_bound_elsewhere', token: credit.token, amount: credit.amount, at, elapsedMs, settlementId };
  const out = await w.destination.call(w.engine, engineIface.encodeFunctionData('collateralOf', [credit.trader, credit.positionId, credit.srcChainId, credit.token]));
  return { kind: 'credited', ...credit, collateral: engineIface.decodeFunctionResult('collateralOf', out)[0] as bigint, at, elapsedMs };
}

/**
 * Reads processed(lockId) every `pollMs` until it holds or `timeoutMs` has passed since `sinceMs`.
 * A node that does not answer is asked again at the next poll (its error is kept for the timeout).
 */
export async function waitForCredit(w: CreditWait): Promise<CreditOutcome> {
  const now = w.now ?? Date.now;
  const sleep = w.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let lastError: string | undefined;
  for (;;) {
    try {
      if (await processed(w)) return await outcome(w, now() - w.sinceMs);
      lastError = undefined;
    } catch (e) {
      if (!isRetryable(e)) throw e;
      lastError = errorSummary(e);
    }
    const elapsedMs = now() - w.sinceMs;
    if (elapsedMs >= w.timeoutMs) return { kind: 'timeout', elapsedMs, ...(lastError === undefined ? {} : { lastError }) };
    w.onWaiting?.(elapsedMs);
    await sleep(Math.min(w.pollMs, w.timeoutMs - elapsedMs));
  }
}
