// The one ethers provider factory: a fixed network, no batch stall, polling at the chain's pace
// (ethers' defaults — 4 s polling, 10 ms batching — are wrong for fast L2s and local chains).
import { JsonRpcProvider, type Provider, type TransactionReceipt } from 'ethers';

export function makeProvider(url: string, chainId: number, pollMs: number): JsonRpcProvider {
  return new JsonRpcProvider(url, chainId, { staticNetwork: true, batchMaxCount: 1, batchStallTime: 0, pollingInterval: pollMs, cacheTimeout: -1 });
}

/**
 * Waits for a receipt by asking for it, never by listening for new blocks: on a chain that mines
 * only when a transaction arrives (anvil automine), ethers' waitForTransaction can miss the block
 * that holds the transaction and then wait for one that never comes.
 */
export async function waitForReceipt(provider: Pick<Provider, 'getTransactionReceipt'>, hash: string, o: { pollMs?: number; timeoutMs?: number } = {}): Promise<TransactionReceipt> {
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  for (let poll = 0; ; poll++) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt !== null) return receipt;
    if (Date.now() > deadline) throw new Error(`no receipt for ${hash} after ${o.timeoutMs ?? 60_000} ms`);
    await new Promise((r) => setTimeout(r, Math.min(o.pollMs ?? 50, 2 ** poll)));
  }
}
