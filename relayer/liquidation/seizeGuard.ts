// The last check before a SEIZE leaves for a source chain (DESIGN, Liquidation 5): the price the
// engine seized at — carried by the SEIZE itself, verified with it — must agree with that source
// chain's own oracle, read and validated by the same rules as reconciliation (fresh, in bounds,
// finished round, sequencer up and past its grace). If it does not, or cannot be checked, the
// message is held for an operator: fail closed. The vault makes the same check on chain, so a
// held SEIZE that someone else delivers is parked there, not executed.
import { formatUnits, id } from 'ethers';
import type { ChainClient } from '../chains/client.js';
import type { Config } from '../config/schema.js';
import { decodeMessage, MessageKind } from '../messages/codec.js';
import { chainFeedsOf, policyOf } from '../oracle/priceService.js';
import { readChainFeeds } from '../oracle/readFeeds.js';
import { reconcilePrices, type ReconcilePolicy } from '../oracle/reconcile.js';
import type { MessageRow } from '../store/store.js';

const BPS = 10_000n;

export interface SeizeGuardDeps {
  config: Config;
  client: (chain: string) => ChainClient;
  /** The application message a stored row carries (its transport's payload). */
  appMessage: (row: MessageRow) => string;
}

/** Returns why `row` must be held, or null when it may be delivered. Throws only when a read fails (retried). */
export type SeizeGuard = (row: MessageRow) => Promise<string | null>;

export function seizeGuard(deps: SeizeGuardDeps): SeizeGuard {
  const { config } = deps;
  const marketById = new Map(Object.keys(config.markets).map((name) => [id(name), name]));

  return async (row) => {
    const route = config.routes.find((r) => r.name === row.route);
    if (route?.direction !== 'settle' || row.kind !== 'SEIZE' || row.guardReleased) return null;
    let seize;
    try {
      seize = decodeMessage(deps.appMessage(row));
    } catch {
      return 'the SEIZE is not a message of our wire format: it carries no price to check';
    }
    if (seize.kind !== MessageKind.SEIZE) return null;
    const { market: marketId, price } = seize;
    const market = marketById.get(marketId);
    if (market === undefined) return `the SEIZE was decided on market ${marketId}, which is not configured here`;
    const m = config.markets[market];
    const feed = m?.feeds[route.destination];
    if (m === undefined || feed === undefined) return `${route.destination} has no ${market} feed configured: the SEIZE cannot be checked against its oracle`;

    // That one chain, judged by the market's own rules (quorum of one: this chain must be valid).
    const reading = await readChainFeeds(deps.client(route.destination), chainFeedsOf(feed));
    const own = policyOf(m).chains[route.destination];
    if (own === undefined) return `${route.destination} has no ${market} policy`;
    const policy: ReconcilePolicy = { quorum: 1, maxDeviationBps: m.maxDeviationBps, chains: { [route.destination]: own } };
    const now = reading.blockTimestamp ?? BigInt(Math.floor(Date.now() / 1000));
    const r = reconcilePrices([reading], policy, now);
    if (!r.ok) {
      const why = r.excluded.map((e) => `${e.reason}: ${e.detail}`).join('; ') || r.detail;
      return `${route.destination}'s ${market} oracle gives no valid price (${why})`;
    }
    const gap = r.median > price ? r.median - price : price - r.median;
    if (gap * BPS > BigInt(m.maxDeviationBps) * price) {
      const bps = (gap * BPS) / price;
      return `${route.destination}'s ${market} oracle says ${formatUnits(r.median, 18)}, the SEIZE was decided at ${formatUnits(price, 18)}: ${bps} bps apart (at most ${m.maxDeviationBps})`;
    }
    return null;
  };
}
