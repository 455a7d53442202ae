// Calling the engine from tests: a mined call's own events, and the custom error a call reverts with.
import assert from 'node:assert/strict';
import { getAddress, id, Interface, type Contract, type LogDescription } from 'ethers';
import { errorDecoder, type DecodedError } from '../../relayer/chains/abiFunction.js';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import { waitForReceipt } from '../../relayer/chains/provider.js';
import { DEVNET_CHAINS, DEVNET_MARKET } from '../../relayer/devnet/chains.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { ENGINE_SIDE } from '../../relayer/liquidation/engineAccount.js';
import { decodeMessage, type MarginMessage } from '../../relayer/messages/codec.js';
import { decodePacket, PACKET_SENT_TOPIC, packetFromLogData } from '../../relayer/transports/layerzero/packet.js';
import { provider } from './devnet.js';

/** The devnet market's id on chain, the engine's side encoding, and the devnet chains' ids as the engine sees them. */
export const MARKET_ID = id(DEVNET_MARKET);
export const { long: LONG, short: SHORT } = ENGINE_SIDE;
export const CHAIN_ID: Readonly<Record<string, bigint>> = Object.fromEntries(DEVNET_CHAINS.map((c) => [c.name, BigInt(c.chainId)]));
/** Whole dollars of devnet USDC (6 decimals). */
export const usdc = (dollars: bigint): bigint => dollars * 10n ** 6n;

export const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);
const decodeError = errorDecoder([engineIface, new Interface(ourArtifact('PriceAttestations').abi)]);

/** Sends on base, waits for the receipt, requires success; returns the contract's events in order. */
export async function mined(m: DevnetManifest, c: Contract, method: string, ...args: unknown[]): Promise<LogDescription[]> {
  const tx = await c.getFunction(method).send(...args);
  const receipt = await waitForReceipt(provider(m, 'base'), tx.hash);
  assert.equal(receipt.status, 1, `${method} reverted`);
  const at = getAddress(await c.getAddress());
  return receipt.logs.filter((l) => getAddress(l.address) === at).map((l) => engineIface.parseLog(l)).filter((l): l is LogDescription => l !== null);
}

/** The native fee of one RELEASE/SEIZE from the engine to `dstChainId` (the caller pays it). */
export async function settlementFee(c: Contract, dstChainId: bigint): Promise<bigint> {
  return (await c.getFunction('quoteSettlement')(dstChainId)) as bigint;
}

/** Overrides paying for up to two messages to `dstChainId` (withdraw, close): the engine refunds what is left. */
export async function paying(c: Contract, dstChainId: bigint, messages = 2n): Promise<{ value: bigint }> {
  return { value: messages * (await settlementFee(c, dstChainId)) };
}

/**
 * Overrides that pay more than any devnet RELEASE/SEIZE fee for a withdraw or close whose fees the
 * test does not look at (the engine refunds what is left).
 */
export const FEES = { value: 10n ** 16n } as const;

/** Sends, as `c`'s signer, every settlement the engine still has queued (paying the fees); returns their ids. */
export async function sendQueuedSettlements(m: DevnetManifest, c: Contract): Promise<bigint[]> {
  const sent: bigint[] = [];
  for (const l of await c.queryFilter('SettlementQueued', 0, 'latest')) {
    const [id, , settlement] = (l as unknown as { args: [bigint, bigint, unknown[]] }).args;
    if (((await c.getFunction('queuedSettlements')(id)) as string) === `0x${'0'.repeat(64)}`) continue;
    await mined(m, c, 'sendQueued', id, [...settlement], FEES);
    sent.push(id);
  }
  return sent;
}

/** The custom error `method` reverts with, by name (simulated from the caller; nothing is mined). */
export async function reverted(c: Contract, method: string, ...args: unknown[]): Promise<DecodedError> {
  let data: string | undefined;
  try {
    await c.getFunction(method).staticCall(...args);
  } catch (e) {
    data = (e as { data?: string }).data;
  }
  assert.ok(data !== undefined, `${method} did not revert`);
  const decoded = decodeError(data);
  assert.ok(decoded !== null, `${method} reverted with unknown data ${data}`);
  return decoded;
}

/** The RELEASE/SEIZE the engine sent over LayerZero to chain `dstChainId` with outbound nonce `nonce`, as the transport carries it. */
export async function outboundMessage(m: DevnetManifest, dstChainId: bigint, nonce: bigint): Promise<MarginMessage> {
  const endpoint = m.chains.base?.layerzero.endpoint as string;
  const logs = await provider(m, 'base').getLogs({ address: endpoint, topics: [PACKET_SENT_TOPIC], fromBlock: 0 });
  for (const l of logs) {
    const { encoded, options } = packetFromLogData(l.data);
    const msg = decodeMessage(decodePacket(encoded, options).message);
    if (msg.targetChainId === dstChainId && msg.nonce === nonce) return msg;
  }
  assert.fail(`no message to ${dstChainId} with nonce ${nonce}`);
}

/** The engine chain's (base's) latest block time, seconds. */
export async function chainNow(m: DevnetManifest): Promise<bigint> {
  const block = await provider(m, 'base').getBlock('latest');
  if (block === null) throw new Error('no latest block on base');
  return BigInt(block.timestamp);
}

/** Moves base's clock forward and mines a block. */
export async function advance(m: DevnetManifest, seconds: bigint): Promise<void> {
  await provider(m, 'base').send('evm_increaseTime', [Number(seconds)]);
  await provider(m, 'base').send('evm_mine', []);
}

/** Like mined(), with the gas used and the block's time. */
export async function minedAt(m: DevnetManifest, c: Contract, method: string, ...args: unknown[]): Promise<{ logs: LogDescription[]; gasUsed: bigint; timestamp: bigint }> {
  const tx = await c.getFunction(method).send(...args);
  const receipt = await waitForReceipt(provider(m, 'base'), tx.hash);
  assert.equal(receipt.status, 1, `${method} reverted`);
  const at = getAddress(await c.getAddress());
  const logs = receipt.logs.filter((l) => getAddress(l.address) === at).map((l) => engineIface.parseLog(l)).filter((l): l is LogDescription => l !== null);
  const block = await provider(m, 'base').getBlock(receipt.blockNumber);
  return { logs, gasUsed: receipt.gasUsed, timestamp: BigInt(block?.timestamp ?? 0) };
}
