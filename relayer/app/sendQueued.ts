// `isorelay send-queued` for anyone (a trader whose refund waits): the settlements queued on the
// engine, read from its SettlementQueued logs with whether each is still queued, and sending them
// from a key that pays their fees (quoteSettlement), checked first so that nothing is sent that
// would revert. Every refusal is a sentence.
import { Interface, isError, zeroPadValue, toBeHex, type Wallet } from 'ethers';
import type { ChainClient } from '../chains/client.js';
import { ourArtifact } from '../chains/contractsAbi.js';
import { waitForReceipt } from '../chains/provider.js';
import { isExecutionFailure, RpcResponseError } from '../chains/rpc.js';
import { revertDataOf } from '../chains/tx/sender.js';
import { ErrorCode, IsorelayError } from '../errors/base.js';
import { engineRevertReason } from '../liquidation/engineAbi.js';
import { parseSettlementQueued, sentMessageIds, SETTLEMENT_QUEUED, settlementArg, type QueuedSettlement } from '../liquidation/queuedSettlements.js';

const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);
/** Settlements per sendQueuedMany of --all. */
export const SEND_BATCH = 50;
const READ_BATCH = 250;

/** A queued settlement as the engine's log and state show it. */
export interface QueuedView {
  s: QueuedSettlement;
  /** Still queued (queuedSettlements(id) ≠ 0): nobody has sent it yet. */
  waiting: boolean;
  /** The transaction that queued it. */
  tx: string;
  block: bigint;
}

/**
 * The settlements the engine queued since the chain's startBlock (only `id`'s when given), oldest
 * first, and how many ids it has handed out (settlementsQueued).
 */
export async function readQueued(client: ChainClient, engine: string, id?: bigint): Promise<{ settlements: QueuedView[]; handedOut: bigint }> {
  const handedOut = engineIface.decodeFunctionResult('settlementsQueued', await client.call(engine, engineIface.encodeFunctionData('settlementsQueued')))[0] as bigint;
  if (id !== undefined && (id === 0n || id > handedOut)) return { settlements: [], handedOut };
  const head = await client.blockNumber();
  const step = BigInt(client.config.maxBlockRange);
  const topics = [SETTLEMENT_QUEUED, ...(id === undefined ? [] : [zeroPadValue(toBeHex(id), 32)])];
  const found: Omit<QueuedView, 'waiting'>[] = [];
  for (let from = BigInt(client.config.startBlock); from <= head; from += step) {
    const to = from + step - 1n < head ? from + step - 1n : head;
    const { logs } = await client.logsWithBounds({ address: engine, topics }, from, to);
    for (const l of logs) {
      const s = l.removed ? null : parseSettlementQueued(l);
      if (s !== null) found.push({ s, tx: l.transactionHash, block: l.blockNumber });
    }
  }
  const settlements: QueuedView[] = [];
  for (let i = 0; i < found.length; i += READ_BATCH) {
    const chunk = found.slice(i, i + READ_BATCH);
    const answers = await client.calls(chunk.map((f) => ({ to: engine, data: engineIface.encodeFunctionData('queuedSettlements', [f.s.id]) })));
    chunk.forEach((f, j) => settlements.push({ ...f, waiting: BigInt(answers[j] as string) !== 0n }));
  }
  return { settlements: settlements.sort((a, b) => (a.s.id < b.s.id ? -1 : 1)), handedOut };
}

/** The native fee of sending `settlements` (one quoteSettlement per settlement's chain). */
export async function feeOf(client: ChainClient, engine: string, settlements: readonly QueuedSettlement[]): Promise<bigint> {
  const chains = [...new Set(settlements.map((s) => s.chainId))];
  let answers: string[];
  try {
    answers = await client.calls(chains.map((c) => ({ to: engine, data: engineIface.encodeFunctionData('quoteSettlement', [c]) })));
  } catch (e) {
    if (e instanceof RpcResponseError && isExecutionFailure(e))
      throw new IsorelayError(ErrorCode.TX_REVERTED, `the engine cannot quote the fee of a settlement to chain ${chains.join(' or ')}: ${engineRevertReason(revertDataOf(e))}; nothing was sent`, {
        guidance: ['The engine has no return route to that chain (NoReturnRoute): its owner must set one (setReturnRoute) before anyone can send it.'],
      });
    throw e;
  }
  const fee = new Map(chains.map((c, i) => [c, engineIface.decodeFunctionResult('quoteSettlement', answers[i] as string)[0] as bigint]));
  return settlements.reduce((sum, s) => sum + (fee.get(s.chainId) ?? 0n), 0n);
}

export interface SentSettlements {
  tx: string;
  block: bigint;
  fee: bigint;
  /** The vault's message id of each settlement this transaction sent, by queue id. */
  sent: { id: bigint; messageId: string }[];
  /** Sent meanwhile by someone else: skipped by the engine, their fee refunded. */
  skipped: bigint[];
}

const refused = (message: string, guidance: string[] = []) => new IsorelayError(ErrorCode.TX_REVERTED, message, { guidance });

/**
 * Sends `settlements` from `wallet` (connected to the engine's chain): sendQueued for one,
 * sendQueuedMany for several, paying the quoted fees. Simulated first; refused with the engine's
 * reason, or for want of native token, before anything is signed.
 */
export async function sendQueued(client: ChainClient, engine: string, wallet: Wallet, settlements: readonly QueuedSettlement[]): Promise<SentSettlements> {
  const provider = wallet.provider;
  if (provider === null) throw new Error('the wallet needs a provider');
  const [first] = settlements;
  if (first === undefined) throw new Error('nothing to send');
  const fee = await feeOf(client, engine, settlements);
  const data = settlements.length === 1
    ? engineIface.encodeFunctionData('sendQueued', [first.id, settlementArg(first)])
    : engineIface.encodeFunctionData('sendQueuedMany', [settlements.map((s) => s.id), settlements.map(settlementArg)]);
  const what = settlements.length === 1 ? `sendQueued(${first.id})` : `sendQueuedMany of ${settlements.length} settlements`;
  const balance = await provider.getBalance(wallet.address);
  if (balance < fee)
    throw refused(`${wallet.address} holds ${balance} wei on ${client.name}, less than the messaging fee of ${fee} wei (plus gas): nothing was sent`, [
      `Fund ${wallet.address} on ${client.name}, or send with another key (--key-env, or --relayer-key).`,
    ]);
  try {
    await client.rpc.call<string>('eth_call', [{ from: wallet.address, to: engine, data, value: toBeHex(fee) }, 'latest']);
  } catch (e) {
    if (!(e instanceof RpcResponseError && isExecutionFailure(e))) throw e;
    throw refused(`${what} would revert on ${client.name}: ${engineRevertReason(revertDataOf(e))}; nothing was sent`);
  }
  let hash: string;
  try {
    hash = (await wallet.sendTransaction({ to: engine, data, value: fee })).hash;
  } catch (e) {
    if (isError(e, 'INSUFFICIENT_FUNDS')) throw refused(`nothing was sent: ${wallet.address} has not enough native token on ${client.name} for the fee (${fee} wei) and the gas`);
    throw e;
  }
  const receipt = await waitForReceipt(provider, hash);
  if (receipt.status !== 1) throw refused(`${what} reverted on chain (tx ${hash}): the engine's state changed between the check and the block`, ['Run the command again: it reads the queue again.']);
  const out: SentSettlements = { tx: hash, block: BigInt(receipt.blockNumber), fee, sent: [], skipped: [] };
  sentMessageIds(settlements, receipt.logs, engine).forEach((messageId, i) => {
    const id = (settlements[i] as QueuedSettlement).id;
    if (messageId === null) out.skipped.push(id);
    else out.sent.push({ id, messageId });
  });
  return out;
}
