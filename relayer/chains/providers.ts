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

/**
 * One provider's answer: the receipt it calls final; no such transaction although it calls the
 * message's block final (a vote that the transaction is not in the final chain); or why it cannot
 * vote (behind, unreachable).
 */
export type ProviderReceipt =
  | { provider: string; kind: 'final'; receipt: Receipt }
  | { provider: string; kind: 'absent'; final: bigint }
  | { provider: string; kind: 'unknown'; why: string };

/** Every configured provider of a chain, as its own client. */
export function providersOf(chain: string, config: ChainConfig): Provider[] {
  const groups = config.providers ?? { rpc: config.rpcUrls };
  return Object.entries(groups).map(([name, urls]) => ({ name, client: new ChainClient(`${chain}/${name}`, { ...config, rpcUrls: urls }) }));
}

/** The most receipts asked of one provider in one request. */
const MAX_BATCH = 100;

interface Pending {
  txHash: string;
  /** The block the message was observed in: a provider final past it that lacks the transaction votes "absent". */
  srcBlock: bigint;
  resolve: (r: ProviderReceipt) => void;
}

/**
 * Final receipts as one provider serves them, with that provider's own head in the same request:
 * a provider that has not reached or not finalized the block cannot vote (it is behind, not a
 * witness that the transaction is absent). The asks of one event-loop turn go out as one JSON-RPC
 * batch (one head, many receipts), so verifying many messages costs one request per provider.
 */
export class ProviderReader {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(readonly provider: Provider) {}

  get name(): string {
    return this.provider.name;
  }

  finalReceipt(txHash: string, srcBlock: bigint): Promise<ProviderReceipt> {
    return new Promise((resolve) => {
      this.queue.push({ txHash, srcBlock, resolve });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const all = this.queue;
        this.queue = [];
        for (let i = 0; i < all.length; i += MAX_BATCH) void this.flush(all.slice(i, i + MAX_BATCH));
      });
    });
  }

  private async flush(batch: Pending[]): Promise<void> {
    const p = this.provider;
    const f = p.client.config.finality;
    const tagged = 'tag' in f;
    const hashes = [...new Set(batch.map((b) => b.txHash))];
    let answers: ProviderReceipt[];
    let final: bigint | null = null;
    try {
      const [head, ...raws] = await p.client.rpc.batch<[unknown, ...unknown[]]>([
        tagged ? { method: 'eth_getBlockByNumber', params: ['finalized', false] } : { method: 'eth_blockNumber', params: [] },
        ...hashes.map((h) => ({ method: 'eth_getTransactionReceipt', params: [h] })),
      ]);
      final = tagged ? blockNumberOf(head) : quantity(head) - BigInt('confirmations' in f ? f.confirmations : 0);
      answers = raws.map((raw, i): ProviderReceipt => {
        try {
          const receipt = ChainClient.parseReceipt(raw);
          if (receipt === null) return { provider: p.name, kind: 'unknown', why: 'has no receipt for the transaction (behind?)' };
          // A node that answers a receipt of another transaction is not a witness of this one.
          if (receipt.transactionHash.toLowerCase() !== (hashes[i] as string).toLowerCase()) return { provider: p.name, kind: 'unknown', why: 'answered the receipt of another transaction' };
          if (final === null || receipt.blockNumber > final) return { provider: p.name, kind: 'unknown', why: `does not call block ${receipt.blockNumber} final yet` };
          return { provider: p.name, kind: 'final', receipt };
        } catch (e) {
          return { provider: p.name, kind: 'unknown', why: errorSummary(e) };
        }
      });
    } catch (e) {
      const why = errorSummary(e);
      answers = hashes.map(() => ({ provider: p.name, kind: 'unknown', why }));
    }
    const byHash = new Map(hashes.map((h, i) => [h, answers[i] as ProviderReceipt]));
    for (const b of batch) {
      const a = byHash.get(b.txHash) ?? { provider: p.name, kind: 'unknown', why: 'no answer' };
      // No receipt from a provider that calls the message's block final: it says the transaction is not there.
      const absent = a.kind === 'unknown' && a.why.startsWith('has no receipt') && final !== null && final >= b.srcBlock;
      b.resolve(absent && final !== null ? { provider: p.name, kind: 'absent', final } : a);
    }
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
