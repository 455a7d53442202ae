// The last check before a SEIZE leaves for a source chain (DESIGN, Liquidation 5): the price the
// engine seized at must agree with that source chain's own oracle, read and validated by the same
// rules as reconciliation (fresh, in bounds, finished round, sequencer up and past its grace).
// If it does not, or cannot be checked, the message is held for an operator: fail closed.
import { formatUnits, id, Interface } from 'ethers';
import { abiFunction } from '../chains/abiFunction.js';
import type { ChainClient } from '../chains/client.js';
import { ourArtifact } from '../chains/contractsAbi.js';
import type { Config } from '../config/schema.js';
import { chainFeedsOf, policyOf } from '../oracle/priceService.js';
import { readChainFeeds } from '../oracle/readFeeds.js';
import { reconcilePrices, type ReconcilePolicy } from '../oracle/reconcile.js';
import type { MessageRow } from '../store/store.js';

const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);
const seizeContext = abiFunction(engineIface, 'seizeContext');
const BPS = 10_000n;

export interface SeizeGuardDeps {
  config: Config;
  client: (chain: string) => ChainClient;
}

/** Returns why `row` must be held, or null when it may be delivered. Throws only when a read fails (retried). */
export type SeizeGuard = (row: MessageRow) => Promise<string | null>;

export function seizeGuard(deps: SeizeGuardDeps): SeizeGuard {
  const { config } = deps;
  const marketById = new Map(Object.keys(config.markets).map((name) => [id(name), name]));

  return async (row) => {
    const route = config.routes.find((r) => r.name === row.route);
    if (route?.direction !== 'settle' || row.kind !== 'SEIZE' || row.guardReleased) return null;
    const engine = config.chains[route.source]?.engine;
    if (engine === undefined || row.messageId === null) return 'the SEIZE cannot be traced to the engine\'s record';
    const [marketId, price] = seizeContext.decode(await deps.client(route.source).call(engine, seizeContext.encode([row.messageId]))) as unknown as [string, bigint];
    if (price === 0n) return 'the engine recorded no price for this SEIZE';
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
