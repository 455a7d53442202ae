// The independent RPC providers of one chain, each read on its own (failover only inside one
// provider's URLs), for what must be cross-checked before the relayer vouches for it: a
// transaction's receipt as each provider serves it, and whether that provider calls it final.
import type { ChainConfig } from '../config/schema.js';
import { errorSummary } from '../errors/base.js';
import { ChainClient, type Receipt } from './client.js';

export interface Provider {
  /** The provider's name in `chains.<chain>.providers` (`rpc` when only rpcUrls are configured). */
  name: string;
  client: ChainClient;
}

/** One provider's answer: the receipt it calls final, or why it cannot vote (behind, unreachable, no such tx). */
export type ProviderReceipt =
  | { provider: string; kind: 'final'; receipt: Receipt }
  | { provider: string; kind: 'unknown'; why: string };

/** Every configured provider of a chain, as its own client. */
export function providersOf(chain: string, config: ChainConfig): Provider[] {
  const groups = config.providers ?? { rpc: config.rpcUrls };
  return Object.entries(groups).map(([name, urls]) => ({ name, client: new ChainClient(`${chain}/${name}`, { ...config, rpcUrls: urls }) }));
}

/**
 * The receipt of `txHash` as one provider serves it, with that provider's own head in the same
 * request: a provider that has not reached or not finalized the block cannot vote (it is behind,
 * not a witness that the transaction is absent).
 */
export async function finalReceiptFrom(p: Provider, txHash: string): Promise<ProviderReceipt> {
  const f = p.client.config.finality;
  try {
    const tagged = 'tag' in f;
    const [raw, head] = await p.client.rpc.batch<[unknown, unknown]>([
      { method: 'eth_getTransactionReceipt', params: [txHash] },
      tagged ? { method: 'eth_getBlockByNumber', params: ['finalized', false] } : { method: 'eth_blockNumber', params: [] },
    ]);
    const receipt = ChainClient.parseReceipt(raw);
    if (receipt === null) return { provider: p.name, kind: 'unknown', why: 'has no receipt for the transaction (behind?)' };
    const final = tagged ? blockNumberOf(head) : quantity(head) - BigInt('confirmations' in f ? f.confirmations : 0);
    if (final === null || receipt.blockNumber > final)
      return { provider: p.name, kind: 'unknown', why: `does not call block ${receipt.blockNumber} final yet` };
    return { provider: p.name, kind: 'final', receipt };
  } catch (e) {
    return { provider: p.name, kind: 'unknown', why: errorSummary(e) };
  }
}

function quantity(v: unknown): bigint {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]+$/.test(v)) throw new Error('a block number that is not a quantity');
  return BigInt(v);
}

function blockNumberOf(v: unknown): bigint | null {
  if (v === null || typeof v !== 'object') return null;
  return quantity((v as { number?: unknown }).number);
}
