// A SEIZE the transport delivered is not yet executed if the vault parked it: the vault's own
// oracle disputed its price (the SEIZE guard on chain). Such a SEIZE is re-checked until the
// vault's oracle agrees (then `retrySeize`, which anyone may send) or its guardian releases it.
// Both transports end their "delivered?" question here for a SEIZE.
import { WaitCode } from '../messages/reasons.js';
import { Interface } from 'ethers';
import { abiFunction } from '../chains/abiFunction.js';
import type { ChainClient } from '../chains/client.js';
import { ourArtifact } from '../chains/contractsAbi.js';
import { decodeMessage, MessageKind, messageId } from '../messages/codec.js';
import type { MessageRow } from '../store/store.js';
import type { DeliveryPlan } from './transport.js';

const vaultIface = new Interface(ourArtifact('CollateralVault').abi);
const parkedSeizes = abiFunction(vaultIface, 'parkedSeizes');
const seizeDispute = abiFunction(vaultIface, 'seizeDispute');
const retrySeize = abiFunction(vaultIface, 'retrySeize');
const ZERO_HASH = '0x' + '0'.repeat(64);

/** The step name a parked SEIZE is executed with (the confirm stage sends it back to deliver). */
export const RETRY_SEIZE_STEP = 'retrySeize';

/** Why the vault parks a SEIZE, by its PARK_ code. */
export const PARK_REASONS: Readonly<Record<number, string>> = {
  1: 'the vault has no SEIZE guard (feed) for the market',
  2: 'the vault\'s sequencer feed says the sequencer is down',
  3: 'the vault\'s sequencer is inside its grace period after a restart',
  4: 'the vault\'s feed is invalid or unreadable',
  5: 'the vault\'s feed is stale',
  6: 'the vault\'s oracle price is too far from the SEIZE\'s price',
};

/**
 * Called when the transport says `row` was delivered to `vault`: delivered, unless it is a SEIZE the
 * vault parked — then it waits for the vault's oracle to agree, or is executed by `retrySeize`.
 */
export async function afterDelivery(row: MessageRow, appMessage: string, vault: string, dst: ChainClient): Promise<DeliveryPlan> {
  if (row.kind !== 'SEIZE') return { kind: 'delivered' };
  let m;
  try {
    m = decodeMessage(appMessage);
  } catch {
    return { kind: 'delivered' };
  }
  if (m.kind !== MessageKind.SEIZE) return { kind: 'delivered' };
  const id = messageId(m.originChainId, m.origin, m.nonce);
  const [parkedRaw, disputeRaw] = await dst.calls([
    { to: vault, data: parkedSeizes.encode([id]) },
    { to: vault, data: seizeDispute.encode([m.market, m.price]) },
  ]);
  if ((parkedSeizes.decode(parkedRaw as string)[0] as string) === ZERO_HASH) return { kind: 'delivered' };
  const [reason] = seizeDispute.decode(disputeRaw as string) as unknown as [bigint];
  if (reason !== 0n) return { kind: 'wait', code: WaitCode.vaultParked, reason: `parked by the vault: ${PARK_REASONS[Number(reason)] ?? `reason ${reason}`}; re-checked until it agrees or the guardian releases it` };
  return {
    kind: 'send',
    steps: [{ step: RETRY_SEIZE_STEP, phase: 0, then: 'submitted', tx: { to: vault, data: retrySeize.encode([appMessage]), purpose: RETRY_SEIZE_STEP, messages: [row.id] } }],
  };
}
