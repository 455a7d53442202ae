// One market's price from its configured feeds: reads every chain of the market (one eth_call
// per chain, in parallel), reconciles at the chains' own time, and keeps the mark price
// (an EMA of the reconciled medians) per market. A failed reconciliation leaves the mark alone.
import type { ChainClient } from '../chains/client.js';
import type { Config, MarketConfig } from '../config/schema.js';
import { ErrorCode, IsorelayError } from '../errors/base.js';
import { readAllChains, type ChainFeeds, type ChainFeedsRead } from './readFeeds.js';
import { markPriceEma, reconcilePrices, type FeedReading, type ReconcilePolicy, type Reconciliation } from './reconcile.js';

/** markEmaBps · 1e14 is the EMA's alpha in 1e18 (10000 bps = 1e18 = the median itself). */
const BPS_TO_WAD = 10n ** 14n;

/** The reconciliation policy of a market. A chain without a sequencer feed gets no grace (null). */
export function policyOf(market: MarketConfig): ReconcilePolicy {
  const chains: Record<string, ReconcilePolicy['chains'][string]> = {};
  for (const [chain, feed] of Object.entries(market.feeds)) {
    chains[chain] = {
      heartbeatSeconds: feed.heartbeatSeconds,
      // The schema defaults the grace even without a sequencer feed; reconcilePrices reads a
      // number there as "a sequencer feed is expected" and would exclude the chain.
      sequencerGraceSeconds: feed.sequencerFeed === undefined ? null : feed.sequencerGraceSeconds,
    };
  }
  return { quorum: market.quorum, maxDeviationBps: market.maxDeviationBps, chains };
}

/** What readChainFeeds reads for one chain's feed config. */
export function chainFeedsOf(feed: MarketConfig['feeds'][string]): ChainFeeds {
  return { priceFeed: feed.aggregator, ...(feed.sequencerFeed === undefined ? {} : { sequencerFeed: feed.sequencerFeed }) };
}

/** The EMA weight of a new median in the mark price, in 1e18. */
export const markAlphaOf = (market: MarketConfig): bigint => BigInt(market.markEmaBps) * BPS_TO_WAD;

export interface MarketPrices {
  market: string;
  /** The time the readings were reconciled at (seconds): the newest block timestamp among them. */
  now: bigint;
  /** One per configured chain, in the config's order. */
  readings: FeedReading[];
  result: Reconciliation;
}

export interface PriceServiceOptions {
  /** Wall clock in ms, used as "now" only when no reading carries a block timestamp. */
  now?: () => number;
}

interface MarketPlan {
  policy: ReconcilePolicy;
  alpha: bigint;
  /** The chains to read, built on the first reconciliation (asking for a client may connect). */
  targets?: ChainFeedsRead[];
}

export class PriceService {
  private readonly plans = new Map<string, MarketPlan>();
  private readonly marks = new Map<string, bigint>();
  private readonly now: () => number;

  constructor(
    private readonly config: Pick<Config, 'markets'>,
    private readonly clientOf: (chain: string) => ChainClient,
    options: PriceServiceOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The configured market names. */
  get markets(): string[] {
    return Object.keys(this.config.markets);
  }

  /** Reads every configured chain of the market and reconciles; updates the mark when ok. */
  async reconcile(market: string): Promise<MarketPrices> {
    const plan = this.plan(market);
    plan.targets ??= this.targetsOf(market);
    const readings = await readAllChains(plan.targets);
    const now = newestBlockTime(readings) ?? BigInt(Math.floor(this.now() / 1000));
    const result = reconcilePrices(readings, plan.policy, now);
    if (result.ok) this.marks.set(market, markPriceEma(this.marks.get(market) ?? null, result.median, plan.alpha));
    return { market, now, readings, result };
  }

  /** The mark price (1e18) of the market, or null before its first ok reconciliation. */
  mark(market: string): bigint | null {
    this.plan(market);
    return this.marks.get(market) ?? null;
  }

  /** The market's policy, as reconciliation uses it. */
  policy(market: string): ReconcilePolicy {
    return this.plan(market).policy;
  }

  private marketConfig(market: string): MarketConfig {
    const config = Object.hasOwn(this.config.markets, market) ? this.config.markets[market] : undefined;
    if (config !== undefined) return config;
    const names = this.markets;
    throw new IsorelayError(ErrorCode.MARKET_UNKNOWN, `no market "${market}" in the config`, {
      guidance: [names.length === 0 ? 'The config has no markets: add one under `markets` (docs/oracle.md shows how).' : `Configured markets: ${names.join(', ')}.`],
      details: { market },
    });
  }

  private plan(market: string): MarketPlan {
    let plan = this.plans.get(market);
    if (plan === undefined) {
      const config = this.marketConfig(market);
      plan = { policy: policyOf(config), alpha: markAlphaOf(config) };
      this.plans.set(market, plan);
    }
    return plan;
  }

  private targetsOf(market: string): ChainFeedsRead[] {
    return Object.entries(this.marketConfig(market).feeds).map(([chain, feed]) => ({
      client: this.clientOf(chain),
      feeds: chainFeedsOf(feed),
    }));
  }
}

function newestBlockTime(readings: readonly FeedReading[]): bigint | undefined {
  let newest: bigint | undefined;
  for (const r of readings) if (r.blockTimestamp !== undefined && (newest === undefined || r.blockTimestamp > newest)) newest = r.blockTimestamp;
  return newest;
}
