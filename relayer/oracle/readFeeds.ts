// Reads a chain's price feed and sequencer-uptime feed in ONE JSON-RPC call per chain per tick,
// chains in parallel: the creation code of contracts/FeedSnapshot.sol sent as an `eth_call`
// without `to`, whose constructor returns every value of the reading, all from one block. A
// failed read becomes a reading with `error` set, which reconciliation excludes: it never throws.
import { AbiCoder, Interface, ZeroAddress } from 'ethers';
import { errorDecoder } from '../chains/abiFunction.js';
import type { ChainClient } from '../chains/client.js';
import { ourArtifact } from '../chains/contractsAbi.js';
import { RpcResponseError } from '../chains/rpc.js';
import type { FeedReading } from './reconcile.js';

const snapshot = ourArtifact('FeedSnapshot');
const snapshotIface = new Interface(snapshot.abi);
const decodeError = errorDecoder([snapshotIface]);
/** FeedSnapshot.Reading: static fields only, so abi.encode(struct) is these words in order. */
const READING = ['uint80', 'int256', 'uint256', 'uint256', 'uint80', 'uint8', 'int192', 'int192', 'bool', 'int256', 'uint256', 'uint256'];
const coder = AbiCoder.defaultAbiCoder();

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

const failed = (chain: string, message: string): FeedReading => ({
  chain, answer: 0n, decimals: 0, roundId: 0n, answeredInRound: 0n, startedAt: 0n, updatedAt: 0n, minAnswer: 0n, maxAnswer: 0n, error: message,
});

/** Encoded once per pair of feeds: the creation code is a few kilobytes, read every tick. */
const snapshotCalls = new Map<string, { data: string }>();

/** The eth_call that reads `feeds` (creation code + constructor arguments, no `to`). */
export function snapshotCall(feeds: ChainFeeds): { data: string } {
  const key = `${feeds.priceFeed}:${feeds.sequencerFeed ?? ''}`;
  let call = snapshotCalls.get(key);
  if (call === undefined) {
    call = { data: snapshot.bytecode + snapshotIface.encodeDeploy([feeds.priceFeed, feeds.sequencerFeed ?? ZeroAddress]).slice(2) };
    snapshotCalls.set(key, call);
  }
  return call;
}

/** Decodes FeedSnapshot's answer into a reading of `chain`. */
export function decodeSnapshot(chain: string, out: string): FeedReading {
  const [roundId, answer, startedAt, updatedAt, answeredInRound, decimals, minAnswer, maxAnswer, hasSequencer, seqAnswer, seqStartedAt, blockTimestamp] =
    coder.decode(READING, out) as unknown as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, boolean, bigint, bigint, bigint];
  return {
    chain, roundId, answer, startedAt, updatedAt, answeredInRound, decimals: Number(decimals), minAnswer, maxAnswer,
    // Chainlink's uptime feed: 0 = up, 1 = down. Anything else is not "up": fail closed.
    sequencer: hasSequencer ? { down: seqAnswer !== 0n, startedAt: seqStartedAt } : null,
    blockTimestamp,
  };
}

/** Why a snapshot call failed, in words: the failing read and feed when the chain said so. */
function describe(e: unknown): string {
  if (e instanceof RpcResponseError && typeof e.data === 'string') {
    const d = decodeError(e.data);
    if (d?.name === 'FeedReadFailed') return `${String(d.args[0])}() of ${String(d.args[1])} reverted`;
    if (d?.name === 'NoFeedAt') return `no contract at feed address ${String(d.args[0])}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/**
 * One chain's reading: latestRoundData, decimals, minAnswer, maxAnswer of the price feed,
 * latestRoundData of the sequencer feed (if any) and the block's timestamp, in one `eth_call`.
 */
export async function readChainFeeds(client: ChainClient, feeds: ChainFeeds): Promise<FeedReading> {
  try {
    return decodeSnapshot(client.name, await client.rpc.call<string>('eth_call', [snapshotCall(feeds), 'latest']));
  } catch (e) {
    return failed(client.name, describe(e));
  }
}

/** Every chain's reading, read in parallel (one request per chain); order follows `chains`. */
export async function readAllChains(chains: readonly ChainFeedsRead[]): Promise<FeedReading[]> {
  return Promise.all(chains.map((c) => readChainFeeds(c.client, c.feeds)));
}
