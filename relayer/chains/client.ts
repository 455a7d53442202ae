// One chain as the relayer sees it: typed reads over the failover RPC client, the chain's
// finality policy, and the checks made at start (the chain id must be the configured one).
import { toQuantity } from 'ethers';
import type { ChainConfig } from '../config/schema.js';
import { ErrorCode, IsorelayError } from '../errors/base.js';
import { RpcClient, type RpcCall } from './rpc.js';

export interface BlockHeader {
  number: bigint;
  hash: string;
  parentHash: string;
  timestamp: number;
  baseFeePerGas: bigint | null;
}

export interface Log {
  address: string;
  topics: string[];
  data: string;
  blockNumber: bigint;
  blockHash: string;
  transactionHash: string;
  logIndex: number;
  removed: boolean;
}

export interface Receipt {
  transactionHash: string;
  blockNumber: bigint;
  blockHash: string;
  status: 0 | 1;
  gasUsed: bigint;
  effectiveGasPrice: bigint;
  logs: Log[];
}

export interface LogFilter {
  address: string | string[];
  topics: (string | string[] | null)[];
}

interface RawBlock { number: string; hash: string; parentHash: string; timestamp: string; baseFeePerGas?: string }
interface RawLog { address: string; topics: string[]; data: string; blockNumber: string; blockHash: string; transactionHash: string; logIndex: string; removed?: boolean }
interface RawReceipt { transactionHash: string; blockNumber: string; blockHash: string; status: string; gasUsed: string; effectiveGasPrice?: string; logs: RawLog[] }

const toBlock = (b: RawBlock): BlockHeader => ({
  number: BigInt(b.number), hash: b.hash, parentHash: b.parentHash, timestamp: Number(BigInt(b.timestamp)),
  baseFeePerGas: b.baseFeePerGas === undefined ? null : BigInt(b.baseFeePerGas),
});
const toLog = (l: RawLog): Log => ({
  address: l.address, topics: l.topics, data: l.data, blockNumber: BigInt(l.blockNumber), blockHash: l.blockHash,
  transactionHash: l.transactionHash, logIndex: Number(BigInt(l.logIndex)), removed: l.removed === true,
});
const toReceipt = (r: RawReceipt): Receipt => ({
  transactionHash: r.transactionHash, blockNumber: BigInt(r.blockNumber), blockHash: r.blockHash,
  status: BigInt(r.status) === 1n ? 1 : 0, gasUsed: BigInt(r.gasUsed),
  effectiveGasPrice: BigInt(r.effectiveGasPrice ?? '0x0'), logs: r.logs.map(toLog),
});

export class ChainClient {
  readonly rpc: RpcClient;

  constructor(
    readonly name: string,
    readonly config: ChainConfig,
  ) {
    this.rpc = new RpcClient({ chain: name, urls: config.rpcUrls, timeoutMs: config.rpcTimeoutMs });
  }

  /** A receipt as a node answered it (null when the node has none); a malformed one is a bad response. */
  static parseReceipt(raw: unknown): Receipt | null {
    if (raw === null) return null;
    try {
      return toReceipt(raw as RawReceipt);
    } catch (cause) {
      throw new IsorelayError(ErrorCode.RPC_BAD_RESPONSE, 'a node answered a receipt that is not one', { cause });
    }
  }

  get chainId(): number {
    return this.config.chainId;
  }

  /** Refuses to work against a node of another chain. */
  async checkChainId(): Promise<void> {
    const id = Number(BigInt(await this.rpc.call<string>('eth_chainId')));
    if (id !== this.config.chainId)
      throw new IsorelayError(ErrorCode.RPC_CHAIN_ID_MISMATCH, `${this.name}: the RPC serves chain id ${id}, the config says ${this.config.chainId}`, {
        guidance: [`Point chains.${this.name}.rpcUrls at a node of chain ${this.config.chainId}, or fix chains.${this.name}.chainId.`],
      });
  }

  async blockNumber(): Promise<bigint> {
    return BigInt(await this.rpc.call<string>('eth_blockNumber'));
  }

  async block(tag: bigint | 'latest' | 'finalized' | 'safe'): Promise<BlockHeader | null> {
    const raw = await this.rpc.call<RawBlock | null>('eth_getBlockByNumber', [typeof tag === 'bigint' ? toQuantity(tag) : tag, false]);
    return raw === null ? null : toBlock(raw);
  }

  /** The newest block that the finality policy calls final. */
  async finalizedBlockNumber(head?: bigint): Promise<bigint> {
    const f = this.config.finality;
    if ('tag' in f) {
      const b = await this.block('finalized');
      if (b === null) throw new IsorelayError(ErrorCode.RPC_BAD_RESPONSE, `${this.name}: the node has no finalized block`);
      return b.number;
    }
    const h = head ?? (await this.blockNumber());
    const n = h - BigInt(f.confirmations);
    return n < 0n ? -1n : n;
  }

  /**
   * Logs of [from, to] with the headers of `from - 1` and `to`, all from one node in one batch.
   * A node that lacks block `to` has not seen the range: its empty answer means "unknown", so
   * this throws instead of returning no logs.
   */
  async logsWithBounds(filter: LogFilter, from: bigint, to: bigint): Promise<{ logs: Log[]; before: BlockHeader | null; last: BlockHeader }> {
    const calls: RpcCall[] = [
      { method: 'eth_getLogs', params: [{ address: filter.address, topics: filter.topics, fromBlock: toQuantity(from), toBlock: toQuantity(to) }] },
      { method: 'eth_getBlockByNumber', params: [toQuantity(to), false] },
      { method: 'eth_getBlockByNumber', params: [toQuantity(from > 0n ? from - 1n : 0n), false] },
    ];
    const [logs, last, before] = await this.rpc.batch<[RawLog[], RawBlock | null, RawBlock | null]>(calls);
    if (last === null)
      throw new IsorelayError(ErrorCode.RPC_BAD_RESPONSE, `${this.name}: the node has not reached block ${to} yet`, { details: { to: to.toString() } });
    return { logs: logs.map(toLog), before: before === null ? null : toBlock(before), last: toBlock(last) };
  }

  async receipt(hash: string): Promise<Receipt | null> {
    const raw = await this.rpc.call<RawReceipt | null>('eth_getTransactionReceipt', [hash]);
    return raw === null ? null : toReceipt(raw);
  }

  async receipts(hashes: string[]): Promise<(Receipt | null)[]> {
    if (hashes.length === 0) return [];
    const raws = await this.rpc.batch<(RawReceipt | null)[]>(hashes.map((h) => ({ method: 'eth_getTransactionReceipt', params: [h] })));
    return raws.map((r) => (r === null ? null : toReceipt(r)));
  }

  async call(to: string, data: string, from?: string): Promise<string> {
    return this.rpc.call<string>('eth_call', [{ to, data, ...(from === undefined ? {} : { from }) }, 'latest']);
  }

  /** Several eth_calls against one block of one node. */
  async calls(requests: { to: string; data: string }[]): Promise<string[]> {
    if (requests.length === 0) return [];
    return this.rpc.batch<string[]>(requests.map((r) => ({ method: 'eth_call', params: [r, 'latest'] })));
  }
}
