// What a strategy does at expiry, for a screen: its best and worst outcomes and the price ranges
// where each is reached ("between 2,800 and 3,200 you keep 160 USD; worst case −240 USD below
// 2,600 or above 3,400"). Display only, on the exact payoff; the engine's numbers are options.ts's.
import { WAD } from '../margin/fixedPoint.js';
import { checkLegs, intrinsic, type OptionLeg } from '../margin/options.js';

/** A price range: `from` null is "from 0", `to` null is "and above". */
export interface PriceRange {
  from: bigint | null;
  to: bigint | null;
}

export interface Extreme {
  /** USD 1e18 the trader ends with, payoff − premium (rounded down); null when unbounded. */
  amount: bigint | null;
  /** Where it is reached (for an unbounded one: where it starts growing). */
  ranges: PriceRange[];
}

export interface Outlook {
  best: Extreme;
  worst: Extreme;
}

/**
 * The trader's result payoff(S) − premium is piecewise linear with kinks at the strikes, so its
 * extremes are at the breakpoints {0} ∪ strikes, or unbounded above the highest strike when the
 * net call size is not 0. Runs of breakpoints at the same extreme value are flat ranges.
 */
export function expiryOutlook(legs: readonly OptionLeg[], premium: bigint): Outlook {
  checkLegs(legs);
  const points = [...new Set([0n, ...legs.map((l) => l.strike)])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // Exact in 1e36: Σ sign · size · intrinsic − premium · 1e18.
  const result = (s: bigint): bigint => legs.reduce((r, l) => r + (l.isLong ? 1n : -1n) * l.size * intrinsic(l, s), -premium * WAD);
  const values = points.map(result);
  const slopeAbove = legs.reduce((m, l) => (l.isCall ? m + (l.isLong ? l.size : -l.size) : m), 0n);
  const last = points.length - 1;
  const extreme = (better: (a: bigint, b: bigint) => boolean, unbounded: boolean): Extreme => {
    const top = points[last] as bigint;
    if (unbounded) return { amount: null, ranges: [{ from: top, to: null }] };
    const target = values.reduce((m, v) => (better(v, m) ? v : m));
    const ranges: PriceRange[] = [];
    for (let i = 0; i <= last; i++) {
      if (values[i] !== target) continue;
      let j = i;
      while (j < last && values[j + 1] === target) j++;
      ranges.push({ from: i === 0 ? null : (points[i] as bigint), to: j === last && slopeAbove === 0n ? null : (points[j] as bigint) });
      i = j;
    }
    const floored = target / WAD - (target % WAD < 0n ? 1n : 0n);
    return { amount: floored, ranges };
  };
  return {
    best: extreme((a, b) => a > b, slopeAbove > 0n),
    worst: extreme((a, b) => a < b, slopeAbove < 0n),
  };
}
