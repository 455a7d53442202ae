// What one keeper tick saw of a market, kept for the operator (the status page): the reconciled
// price or why there was none, each chain's own price and why a chain was left out, and how many
// positions were watched, near the line and liquidated; the market's options: its σ on the engine,
// its open strategies, those expired and not settled, and those settled. Pure: built from what the tick read.
import type { MarketPrices } from '../oracle/priceService.js';
import { normalizeTo1e18, type ExclusionReason } from '../oracle/reconcile.js';

export interface KeeperChainPrice {
  chain: string;
  /** The chain's feed answer at 1e18, or null when it could not be read (or is not positive). */
  price: bigint | null;
  /** In the agreeing quorum the price was taken from. */
  used: boolean;
  /** Why the chain was left out, when it was. */
  excluded: { reason: ExclusionReason; detail: string } | null;
}

export interface KeeperMarketTick {
  market: string;
  /** When the tick read the prices (ms). */
  at: number;
  ok: boolean;
  /** The agreeing sources' median, low and high (1e18), when ok. */
  median: bigint | null;
  low: bigint | null;
  high: bigint | null;
  /** Why nobody could be liquidated this tick (no quorum, no agreeing quorum), when not ok. */
  reason: string | null;
  chains: KeeperChainPrice[];
  indexed: number;
  candidates: number;
  liquidated: number;
  /** σ on the engine (1e18), or null when the market has no options config. */
  sigma: bigint | null;
  /** Open options strategies, those expired and not settled at the tick's start, and those the tick settled. */
  strategies: number;
  strategiesDue: number;
  strategiesSettled: number;
}

/** What a tick counted (the options' counts are 0 and σ null for a market without options). */
export interface KeeperTickCounts {
  indexed: number;
  candidates: number;
  liquidated: number;
  sigma?: bigint | null;
  strategies?: number;
  strategiesDue?: number;
  strategiesSettled?: number;
}

/** The summary of one market's tick from the prices it read and what it did. */
export function marketTickSummary(prices: MarketPrices, at: number, counts: KeeperTickCounts): KeeperMarketTick {
  const r = prices.result;
  const used = new Set(r.sources.map((s) => s.chain));
  const chains = prices.readings.map((reading): KeeperChainPrice => {
    const excluded = r.excluded.find((e) => e.chain === reading.chain);
    let price: bigint | null = null;
    if (reading.error === undefined && reading.answer > 0n) {
      try {
        price = normalizeTo1e18(reading.answer, reading.decimals);
      } catch {
        price = null; // nonsensical decimals: the exclusion says why
      }
    }
    return {
      chain: reading.chain, price, used: r.ok && used.has(reading.chain),
      excluded: excluded === undefined ? null : { reason: excluded.reason, detail: excluded.detail },
    };
  });
  return {
    market: prices.market, at, ok: r.ok,
    median: r.ok ? r.median : null, low: r.ok ? r.low : null, high: r.ok ? r.high : null,
    reason: r.ok ? null : `${r.reason}: ${r.detail}`,
    chains, indexed: counts.indexed, candidates: counts.candidates, liquidated: counts.liquidated,
    sigma: counts.sigma ?? null, strategies: counts.strategies ?? 0, strategiesDue: counts.strategiesDue ?? 0, strategiesSettled: counts.strategiesSettled ?? 0,
  };
}
