// The doctor's checks of the markets: every configured feed answers with sane decimals and a fresh
// round, each market reconciles to a price, and each engine trades it on its own feed.
import { formatUnits, id, type Result } from 'ethers';
import type { ChainClient } from '../../chains/client.js';
import type { Config, MarketConfig } from '../../config/schema.js';
import { chainFeedsOf, policyOf } from '../../oracle/priceService.js';
import { readChainFeeds } from '../../oracle/readFeeds.js';
import { reconcilePrices, type Exclusion, type ExclusionReason, type FeedReading } from '../../oracle/reconcile.js';
import { engineIface } from './abis.js';
import { fail, pass, warn, type Checks, type Outcome } from './checks.js';

/** Why a feed reading is out, as the doctor grades it: a setup mistake fails; market weather warns unless the market has no price. */
const SETUP_EXCLUSIONS: ReadonlySet<ExclusionReason> = new Set<ExclusionReason>(['read-failed', 'no-policy', 'duplicate-chain', 'sequencer-unknown']);

/** One chain's feed of a market: read, with sane decimals, and used in the price or why not. */
function feedOutcome(r: FeedReading, feed: MarketConfig['feeds'][string], now: bigint, excluded: Exclusion | undefined, marketOk: boolean): Outcome {
  if (r.error !== undefined) return fail(`${feed.aggregator}: ${r.error}`);
  if (r.decimals < 1 || r.decimals > 18) return fail(`${feed.aggregator} has ${r.decimals} decimals: not a price feed's (Chainlink's use 8 or 18); wrong address?`);
  const age = (r.blockTimestamp ?? now) - r.updatedAt;
  const what = `${formatUnits(r.answer, r.decimals)} (${r.decimals} decimals), updated ${age} s ago, heartbeat ${feed.heartbeatSeconds} s`;
  if (excluded === undefined) return pass(what);
  const why = `${what}: left out of the price, ${excluded.reason}: ${excluded.detail}`;
  return SETUP_EXCLUSIONS.has(excluded.reason) || !marketOk ? fail(why) : warn(why);
}

/**
 * Every configured feed of every market answers, with sane decimals and a fresh round, and the
 * market reconciles to a price; each engine trades the market on its own feed.
 */
export async function checkMarkets(config: Config, clients: Map<string, ChainClient>, group: (name: string) => Checks, markets: Checks): Promise<void> {
  for (const [name, market] of Object.entries(config.markets)) {
    const readings = await Promise.all(
      Object.entries(market.feeds).map(async ([chain, feed]): Promise<FeedReading> => {
        const client = clients.get(chain);
        if (client === undefined)
          return { chain, answer: 0n, decimals: 0, roundId: 0n, answeredInRound: 0n, startedAt: 0n, updatedAt: 0n, minAnswer: 0n, maxAnswer: 0n, error: 'no RPC URL of the chain answered' };
        return readChainFeeds(client, chainFeedsOf(feed));
      }),
    );
    const now = readings.reduce((t, r) => (r.blockTimestamp !== undefined && r.blockTimestamp > t ? r.blockTimestamp : t), 0n);
    const result = reconcilePrices(readings, policyOf(market), now);
    for (const r of readings) {
      const feed = market.feeds[r.chain];
      if (feed === undefined || !clients.has(r.chain)) continue;
      group(r.chain).add(`${name} feed`, feedOutcome(r, feed, now, result.excluded.find((e) => e.chain === r.chain), result.ok));
    }
    markets.add(
      `${name} reconciles to a price`,
      result.ok
        ? pass(`median ${formatUnits(result.median, 18)} from ${result.sources.length} of ${readings.length} chains (quorum ${market.quorum}), spread ${result.spreadBps} bps`)
        : fail(`no price (${result.reason}): ${result.detail}; the keeper cannot liquidate in ${name}`),
    );
    for (const [chain, c] of Object.entries(config.chains)) {
      const client = clients.get(chain);
      const { engine } = c;
      if (client === undefined || engine === undefined) continue;
      const out = group(chain);
      await out.run(`engine trades ${name}`, async () => {
        const m = (await out.read(client, engineIface, engine, 'marketOf', [id(name)]))[0] as Result;
        if (m.getValue('enabled') !== true) return warn(`the engine does not trade ${name}: the keeper skips it`);
        const own = m.getValue('priceFeed') as string;
        const configured = market.feeds[chain]?.aggregator;
        if (configured !== undefined && configured.toLowerCase() !== own.toLowerCase())
          return warn(`the engine checks prices against feed ${own}, the config reads ${configured} on ${chain}: the two may disagree`);
        return pass(`on its own feed ${own}`);
      });
    }
  }
}
