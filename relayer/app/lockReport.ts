// What `isorelay lock` prints: the lock with its transport's own id named for what it is (a
// LayerZero guid or a Wormhole VAA id), then, with --wait, the credit on the destination.
import { formatEther } from 'ethers';
import { emitterHex } from '../transports/wormhole/logMessage.js';
import { formatTokenAmount, type LockResult } from './trader.js';
import type { CreditOutcome } from './waitForCredit.js';

/**
 * The transport's id of the lock's message. A Wormhole VAA id is keccak256(chain, emitter,
 * sequence), as the vault returns it and the engine records it; its parts are given too.
 */
export type TransportId =
  | { type: 'layerzero-guid'; id: string }
  | { type: 'wormhole-vaa-id'; id: string; chain: number | null; emitter: string; sequence: bigint };

export interface LockSummary {
  source: string;
  destination: string;
  trader: string;
  token: string;
  symbol: string;
  decimals: number;
  amount: bigint;
  /** The amount as the trader wrote it (--amount). */
  amountText: string;
  positionId: bigint;
  result: LockResult;
  id: TransportId;
}

/** A lock that published a Wormhole message went over Wormhole; any other over LayerZero (its id is the packet's guid). */
export function transportIdOf(r: LockResult, vault: string, wormholeChain: number | undefined): TransportId {
  if (r.wormholeSequence === undefined) return { type: 'layerzero-guid', id: r.transportId };
  return { type: 'wormhole-vaa-id', id: r.transportId, chain: wormholeChain ?? null, emitter: emitterHex(vault), sequence: r.wormholeSequence };
}

const LABEL = 16;
const row = (label: string, value: string) => `  ${label.padEnd(LABEL)} ${value}`;

export function formatLock(l: LockSummary): string {
  const r = l.result;
  const idRows =
    l.id.type === 'layerzero-guid'
      ? [row('LayerZero guid', l.id.id)]
      : [row('Wormhole VAA id', `${l.id.id} (chain ${l.id.chain ?? '?'}, emitter ${l.id.emitter}, sequence ${l.id.sequence})`)];
  return [
    `locked ${l.amountText} ${l.symbol} on ${l.source} for position ${l.positionId} on ${l.destination}`,
    row('trader', l.trader),
    ...(r.approveTxHash === undefined ? [] : [row('approve', `${r.approveTxHash} (the vault may now spend your ${l.symbol})`)]),
    row('lockId', r.lockId),
    row('nonce', r.nonce.toString()),
    row('tx', `${r.txHash} (block ${r.blockNumber})`),
    row('fee', `${formatEther(r.fee)} (native, ${r.fee} wei)`),
    ...idRows,
    '',
  ].join('\n');
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export function formatCredit(l: LockSummary, c: CreditOutcome): string {
  const amount = (x: bigint) => `${formatTokenAmount(x, l.decimals)} ${l.symbol}`;
  const at = (x: { tx: string; block: bigint } | null) =>
    row('tx', x === null ? `not found on ${l.destination} (its log is not in the blocks read)` : `${x.tx} (block ${x.block})`);
  switch (c.kind) {
    case 'credited':
      return [
        `credited on ${l.destination} ${seconds(c.elapsedMs)} after the lock`,
        row('position', `${c.positionId} (key ${c.positionKey})`),
        row('credited', amount(c.amount)),
        row('collateral', `${amount(c.collateral)} in the position now`),
        at(c.at),
        '',
      ].join('\n');
    case 'refunded': {
      const why = c.reason === 'token_not_accepted'
        ? `the engine on ${l.destination} does not take ${l.symbol} from ${l.source}`
        : `position ${l.positionId} is margined by another collateral`;
      return [
        `NOT credited (${seconds(c.elapsedMs)} after the lock): ${why}`,
        row('refund', `a RELEASE of ${amount(c.amount)} back to you on ${l.source} is queued on ${l.destination}${c.settlementId === undefined ? '' : ` as settlement ${c.settlementId}`}`),
        row('', `the operator's keeper sends it within a few seconds, or you do: isorelay send-queued ${c.settlementId === undefined ? '--trader ' + l.trader + ' --all' : `--id ${c.settlementId}`} (your key pays the fee)`),
        at(c.at),
        '',
      ].join('\n');
    }
    case 'processed':
      return `processed on ${l.destination} ${seconds(c.elapsedMs)} after the lock; its credit log was not found: isorelay positions shows the position\n`;
    case 'timeout':
      return `no credit on ${l.destination} yet, ${seconds(c.elapsedMs)} after the lock\n`;
  }
}

/** The lock as JSON (amounts and block numbers as decimal strings); `transportIdType` names the id. */
export function lockJson(l: LockSummary): Record<string, unknown> {
  const r = l.result;
  return {
    source: l.source,
    destination: l.destination,
    trader: l.trader,
    token: l.token,
    symbol: l.symbol,
    amount: l.amount,
    positionId: l.positionId,
    lockId: r.lockId,
    nonce: r.nonce,
    tx: r.txHash,
    block: r.blockNumber,
    fee: r.fee,
    ...(r.approveTxHash === undefined ? {} : { approveTx: r.approveTxHash }),
    transport: l.id.type === 'layerzero-guid' ? 'layerzero' : 'wormhole',
    transportIdType: l.id.type,
    transportId: l.id.id,
    ...(l.id.type === 'wormhole-vaa-id' ? { wormhole: { chain: l.id.chain, emitter: l.id.emitter, sequence: l.id.sequence } } : {}),
  };
}

export function creditJson(c: CreditOutcome): Record<string, unknown> {
  switch (c.kind) {
    case 'credited':
    case 'refunded': {
      const { kind, at, ...fields } = c;
      return { status: kind, ...fields, tx: at?.tx ?? null, block: at?.block ?? null };
    }
    default: {
      const { kind, ...fields } = c;
      return { status: kind, ...fields };
    }
  }
}
