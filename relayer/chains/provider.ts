// The one ethers provider factory: a fixed network, no batch stall, polling at the chain's pace
// (ethers' defaults — 4 s polling, 10 ms batching — are wrong for fast L2s and local chains).
import { JsonRpcProvider } from 'ethers';

export function makeProvider(url: string, chainId: number, pollMs: number): JsonRpcProvider {
  return new JsonRpcProvider(url, chainId, { staticNetwork: true, batchMaxCount: 1, batchStallTime: 0, pollingInterval: pollMs, cacheTimeout: -1 });
}
