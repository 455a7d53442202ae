// Reads a chain's price feed and sequencer-uptime feed in ONE batched JSON-RPC request (one node,
// one HTTP round trip per chain per tick), chains in parallel. A failed read becomes a reading
// with `error` set, which reconciliation excludes: it never throws.
import { Interface } from 'ethers';
import type { ChainClient } from '../chains/client.js';
import { abiFunction } from '../chains/abiFunction.js';
import type { RpcCall } from '../chains/rpc.js';
import type { FeedReading } from './reconcile.js';

/** The AggregatorV3 reads used here, plus the aggregator's min/max answer bounds. */
const FEED_ABI = [
  'function latestRoundData() view returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)',
  'function decimals() view returns (uint8)',
  'function minAnswer() view returns (int192)',
  'function maxAnswer() view returns (int192)',
];
const iface = new Interface(FEED_ABI);
const latestRoundData = abiFunction(iface, 'latestRoundData');
const decimalsFn = abiFunction(iface, 'decimals');
const minAnswerFn = abiFunction(iface, 'minAnswer');
const maxAnswerFn = abiFunction(iface, 'maxAnswer');
const LATEST_ROUND_DATA = latestRoundData.encode([]);
const DECIMALS = decimalsFn.encode([]);
const MIN_ANSWER = minAnswerFn.encode([]);
const MAX_ANSWER = maxAnswerFn.encode([]);

export interface ChainFeeds {
  /** An AggregatorV3 feed exposing minAnswer()/maxAnswer() (for a Chainlink proxy: its aggregator). */
  priceFeed: string;
  /** The L2 sequencer-uptime feed; absent when the chain has none. */
  sequencerFeed?: string;
}

export interface ChainFeedsRead {
  client: ChainClient;
  feeds: ChainFeeds;
}

const ethCall = (to: string, data: string): RpcCall => ({ method: 'eth_call', params: [{ to, data }, 'latest'] });

const failed = (chain: string, message: string): FeedReading => ({
  chain, answer: 0n, decimals: 0, roundId: 0n, answeredInRound: 0n, startedAt: 0n, updatedAt: 0n, minAnswer: 0n, maxAnswer: 0n, error: message,
});

/**
 * One chain's reading: latestRoundData, decimals, minAnswer, maxAnswer of the price feed,
 * latestRoundData of the sequencer feed (if any) and the latest block's timestamp, in one
 * `client.rpc.batch` call.
 */
export async function readChainFeeds(client: ChainClient, feeds: ChainFeeds): Promise<FeedReading> {
  const calls: RpcCall[] = [
    ethCall(feeds.priceFeed, LATEST_ROUND_DATA),
    ethCall(feeds.priceFeed, DECIMALS),
    ethCall(feeds.priceFeed, MIN_ANSWER),
    ethCall(feeds.priceFeed, MAX_ANSWER),
    { method: 'eth_getBlockByNumber', params: ['latest', false] },
  ];
  if (feeds.sequencerFeed !== undefined) calls.push(ethCall(feeds.sequencerFeed, LATEST_ROUND_DATA));
  try {
    const out = await client.rpc.batch<unknown[]>(calls);
    const [round, decimals, min, max, block, seq] = out as [string, string, string, string, { timestamp: string } | null, string | undefined];
    const r = latestRoundData.decode(round);
    const reading: FeedReading = {
      chain: client.name,
      roundId: r[0] as bigint,
      answer: r[1] as bigint,
      startedAt: r[2] as bigint,
      updatedAt: r[3] as bigint,
      answeredInRound: r[4] as bigint,
      decimals: Number(decimalsFn.decode(decimals)[0] as bigint),
      minAnswer: minAnswerFn.decode(min)[0] as bigint,
      maxAnswer: maxAnswerFn.decode(max)[0] as bigint,
      sequencer: null,
    };
    if (block !== null) reading.blockTimestamp = BigInt(block.timestamp);
    if (feeds.sequencerFeed !== undefined) {
      if (seq === undefined) throw new Error('the node left the sequencer feed read unanswered');
      const s = latestRoundData.decode(seq);
      const answer = s[1] as bigint;
      // Chainlink's uptime feed: 0 = up, 1 = down. Anything else is not "up": fail closed.
      reading.sequencer = { down: answer !== 0n, startedAt: s[2] as bigint };
    }
    return reading;
  } catch (e) {
    return failed(client.name, e instanceof Error ? e.message : String(e));
  }
}

/** Every chain's reading, read in parallel (one request per chain); order follows `chains`. */
export async function readAllChains(chains: readonly ChainFeedsRead[]): Promise<FeedReading[]> {
  return Promise.all(chains.map((c) => readChainFeeds(c.client, c.feeds)));
}
