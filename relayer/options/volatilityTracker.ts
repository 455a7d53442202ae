// The keeper's volatility per market (docs/options.md, "The keeper"): an EWMA of the reconciled
// medians' annualised squared returns, seeded with the engine's σ², sampled at most every
// `sampleSeconds`; and whether σ = √v, clamped into the market's bounds, is worth posting: moved by
// at least `minChangeBps` from the engine's σ, `minIntervalSeconds` after the last post (or refused attempt). Pure.
import { WAD } from '../margin/fixedPoint.js';
import { ewmaVariance, sqrtWad } from '../margin/volatility.js';

export interface VolatilityPolicy {
  /** λ in 1e18 (0.94e18 by default). */
  lambda: bigint;
  sampleSeconds: number;
  minChangeBps: number;
  minIntervalSeconds: number;
}

/** One market's estimate: the variance (1e18) after its last sample, that sample, and the last post. */
export interface VolatilityEstimate {
  variance: bigint;
  /** σ = sqrtWad(variance), before any clamping. */
  sigma: bigint;
  price: bigint;
  at: bigint;
  /** The variance seeded from the engine's σ and no return sampled yet. */
  seeded: boolean;
}

export type VolatilityProposal = { post: true; sigma: bigint } | { post: false; sigma: bigint; why: string };

const BPS = 10_000n;

export class VolatilityTracker {
  private readonly markets = new Map<string, VolatilityEstimate & { lastPostAt: bigint | null }>();

  constructor(private readonly policy: VolatilityPolicy) {}

  /**
   * Takes a market's reconciled median at `at` (seconds). The first one seeds the variance with
   * the engine's σ² (a restarted keeper continues from what is posted rather than from one return);
   * a later one at least `sampleSeconds` after the last sample updates it. Returns the estimate and
   * whether this median was taken.
   */
  sample(market: string, median: bigint, at: bigint, engineSigma: bigint): { taken: boolean; estimate: VolatilityEstimate } {
    const last = this.markets.get(market);
    if (last === undefined) {
      const variance = ceilDiv(engineSigma * engineSigma, WAD);
      const seeded = { variance, sigma: sqrtWad(variance), price: median, at, seeded: true, lastPostAt: null };
      this.markets.set(market, seeded);
      return { taken: true, estimate: seeded };
    }
    if (at - last.at < BigInt(this.policy.sampleSeconds)) return { taken: false, estimate: last };
    const variance = ewmaVariance(last.variance, last.price, median, at - last.at, this.policy.lambda);
    const next = { variance, sigma: sqrtWad(variance), price: median, at, seeded: false, lastPostAt: last.lastPostAt };
    this.markets.set(market, next);
    return { taken: true, estimate: next };
  }

  /**
   * What to post at `at`: the estimate clamped into [volMin, volMax] and within the engine's step
   * of its σ (`maxVolStepBps`: a larger move goes in several posts), if it moved enough and both
   * intervals (ours and the engine's `minVolInterval`) have passed since the last post.
   */
  proposal(market: string, engineSigma: bigint, bounds: { volMin: bigint; volMax: bigint; maxVolStepBps?: bigint; minVolInterval?: bigint }, at: bigint): VolatilityProposal | null {
    const m = this.markets.get(market);
    if (m === undefined) return null;
    let sigma = m.sigma < bounds.volMin ? bounds.volMin : m.sigma > bounds.volMax ? bounds.volMax : m.sigma;
    const step = bounds.maxVolStepBps ?? 0n;
    if (step > 0n) {
      // Rounded toward the engine's σ: a step the engine measures at exactly its limit passes.
      const up = engineSigma + (engineSigma * step) / BPS;
      const down = engineSigma - (engineSigma * step) / BPS;
      sigma = sigma > up ? up : sigma < down ? down : sigma;
    }
    const moved = sigma > engineSigma ? sigma - engineSigma : engineSigma - sigma;
    if (moved * BPS < engineSigma * BigInt(this.policy.minChangeBps) || moved === 0n)
      return { post: false, sigma, why: `moved ${engineSigma === 0n ? 'from 0' : `${(moved * BPS) / engineSigma} bps`}, less than minChangeBps ${this.policy.minChangeBps}` };
    const interval = BigInt(Math.max(this.policy.minIntervalSeconds, Number(bounds.minVolInterval ?? 0n)));
    if (m.lastPostAt !== null && at - m.lastPostAt < interval)
      return { post: false, sigma, why: `posted ${at - m.lastPostAt} s ago, less than the ${interval} s between posts` };
    return { post: true, sigma };
  }

  /** Records a post, or an attempt the engine refused, at `at`: the interval runs from it. */
  posted(market: string, at: bigint): void {
    const m = this.markets.get(market);
    if (m !== undefined) m.lastPostAt = at;
  }
}

function ceilDiv(n: bigint, d: bigint): bigint {
  return (n + d - 1n) / d;
}
