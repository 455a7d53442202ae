// EIP-1559 fee estimation and the replacement bump rule (+12.5 %, capped; never below the last price).

export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

import type { ChainClient } from '../client.js';

export async function estimateFees(client: ChainClient): Promise<Fees> {
  const [block, tip] = await client.rpc.batch<[{ baseFeePerGas?: string } | null, string]>([
    { method: 'eth_getBlockByNumber', params: ['latest', false] },
    { method: 'eth_maxPriorityFeePerGas', params: [] },
  ]);
  const baseFee = BigInt(block?.baseFeePerGas ?? '0x0');
  const maxPriorityFeePerGas = BigInt(tip);
  // Twice the base fee survives six full blocks of base-fee growth.
  return { maxFeePerGas: baseFee * 2n + maxPriorityFeePerGas, maxPriorityFeePerGas };
}

/** The fees of a replacement, or null when the cap is reached. Nodes require ≥ +10 % on both. */
export function bumpFees(last: Fees, market: Fees, first: Fees, capMultiple: number): Fees | null {
  const bump = (x: bigint) => x + (x + 7n) / 8n;
  const cap = (x: bigint) => (x * BigInt(Math.round(capMultiple * 1000))) / 1000n;
  const max = (a: bigint, b: bigint) => (a > b ? a : b);
  const next = {
    maxFeePerGas: max(bump(last.maxFeePerGas), market.maxFeePerGas),
    maxPriorityFeePerGas: max(bump(last.maxPriorityFeePerGas), market.maxPriorityFeePerGas),
  };
  if (next.maxFeePerGas > cap(first.maxFeePerGas) || next.maxPriorityFeePerGas > next.maxFeePerGas) return null;
  return next;
}
