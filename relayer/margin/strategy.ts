// A strategy described for a screen: what kind it is when recognisable, whether its risk is
// defined, its maximum loss and its breakevens (docs/options.md). Display only: the engine's
// numbers come from options.ts / OptionsMath.sol.
import { WAD } from './fixedPoint.js';
import { checkLegs, intrinsic, isDefinedRisk, maxLoss, type OptionLeg } from './options.js';

export const StrategyKind = {
  Call: 'call',
  Put: 'put',
  Straddle: 'straddle',
  Strangle: 'strangle',
  CallVertical: 'call vertical',
  PutVertical: 'put vertical',
  IronCondor: 'iron condor',
  Butterfly: 'butterfly',
  Custom: 'custom',
} as const;
export type StrategyKind = (typeof StrategyKind)[keyof typeof StrategyKind];

export interface StrategyDescription {
  kind: StrategyKind;
  definedRisk: boolean;
  /** USD 1e18 (maxLoss); null when the risk is not defined. */
  maxLoss: bigint | null;
  /**
   * Prices (USD 1e18, ascending) where the loss premium − payoff crosses 0, on the exact payoff,
   * rounded against the trader: the edge of a profitable range is rounded into it, so every price
   * shown inside the range is profitable.
   */
  breakevens: bigint[];
}

export function describeStrategy(legs: readonly OptionLeg[], premium: bigint): StrategyDescription {
  checkLegs(legs);
  const definedRisk = isDefinedRisk(legs);
  return {
    kind: kindOf(legs),
    definedRisk,
    maxLoss: definedRisk ? maxLoss(legs, premium) : null,
    breakevens: breakevens(legs, premium),
  };
}

/** A net position at one (kind, strike): legs at the same strike and kind add up. */
interface Net {
  isCall: boolean;
  strike: bigint;
  size: bigint;
}

function netted(legs: readonly OptionLeg[]): Net[] {
  const byKey = new Map<string, Net>();
  for (const leg of legs) {
    const key = `${leg.isCall ? 'C' : 'P'}${leg.strike}`;
    const net = byKey.get(key) ?? { isCall: leg.isCall, strike: leg.strike, size: 0n };
    net.size += leg.isLong ? leg.size : -leg.size;
    byKey.set(key, net);
  }
  return [...byKey.values()].filter((n) => n.size !== 0n).sort((a, b) => (a.strike < b.strike ? -1 : a.strike > b.strike ? 1 : 0));
}

function kindOf(legs: readonly OptionLeg[]): StrategyKind {
  const nets = netted(legs);
  const calls = nets.filter((n) => n.isCall);
  const puts = nets.filter((n) => !n.isCall);
  const [c1, c2, c3] = calls;
  const [p1, p2, p3] = puts;
  if (nets.length === 1 && c1 !== undefined) return StrategyKind.Call;
  if (nets.length === 1 && p1 !== undefined) return StrategyKind.Put;
  if (nets.length === 2 && c1 !== undefined && p1 !== undefined && c1.size === p1.size) {
    if (c1.strike === p1.strike) return StrategyKind.Straddle;
    if (p1.strike < c1.strike) return StrategyKind.Strangle;
  }
  if (nets.length === 2 && c1 !== undefined && c2 !== undefined && c1.size === -c2.size) return StrategyKind.CallVertical;
  if (nets.length === 2 && p1 !== undefined && p2 !== undefined && p1.size === -p2.size) return StrategyKind.PutVertical;
  if (nets.length === 3 && (calls.length === 3 || puts.length === 3)) {
    const [a, b, c] = calls.length === 3 ? [c1, c2, c3] : [p1, p2, p3];
    if (a !== undefined && b !== undefined && c !== undefined && a.size === c.size && b.size === -2n * a.size && b.strike - a.strike === c.strike - b.strike) {
      return StrategyKind.Butterfly;
    }
  }
  if (nets.length === 4 && p1 !== undefined && p2 !== undefined && c1 !== undefined && c2 !== undefined) {
    // Wings p1 and c2 one way, body p2 and c1 the other, all of one size.
    const w = p1.size;
    if (p2.size === -w && c1.size === -w && c2.size === w) {
      if (p2.strike < c1.strike) return StrategyKind.IronCondor;
      // The body at one strike: an iron butterfly, a butterfly built of a put and a call spread.
      if (p2.strike === c1.strike && p2.strike - p1.strike === c2.strike - c1.strike) return StrategyKind.Butterfly;
    }
  }
  return StrategyKind.Custom;
}

/** A point where the exact loss is 0: n/d, d > 0. */
interface Root {
  n: bigint;
  d: bigint;
}

const same = (a: Root, b: Root): boolean => a.n * b.d === b.n * a.d;
const floorOf = (r: Root): bigint => r.n / r.d; // n ≥ 0 here: prices are not negative
const ceilOf = (r: Root): bigint => (r.n + r.d - 1n) / r.d;

/**
 * The edges of {S ≥ 0 : premium − payoff(S) < 0} on the exact payoff, in 1e36 units:
 * L(S) = premium·1e18 − Σ sign·size·intrinsic(S), linear between strikes. A left edge (profit to its
 * right) rounds up, a right edge rounds down; where two profitable ranges touch at one price of
 * zero loss, the loss does not cross 0 there and no breakeven is reported.
 */
function breakevens(legs: readonly OptionLeg[], premium: bigint): bigint[] {
  const loss = (s: bigint): bigint => legs.reduce((l, leg) => l - (leg.isLong ? 1n : -1n) * leg.size * intrinsic(leg, s), premium * WAD);
  const points = [...new Set([0n, ...legs.map((l) => l.strike)])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // Profitable ranges in order, each [start, end) with end null for "to infinity".
  const ranges: { start: Root; end: Root | null }[] = [];
  const add = (start: Root, end: Root | null): void => {
    const last = ranges.at(-1);
    if (last !== undefined && last.end !== null && same(last.end, start)) last.end = end;
    else ranges.push({ start, end });
  };
  points.forEach((a, i) => {
    const la = loss(a);
    const b = points[i + 1];
    // Slope of L per unit of price on [a, b) (or beyond the last strike).
    const slope = b === undefined ? legs.reduce((m, leg) => (leg.isCall ? m - (leg.isLong ? 1n : -1n) * leg.size : m), 0n) : 0n;
    const lb = b === undefined ? null : loss(b);
    const at = (x: bigint): Root => ({ n: x, d: 1n });
    if (b !== undefined && lb !== null) {
      // Root of la + (lb − la)(S − a)/(b − a) = 0.
      const root = (): Root => ({ n: a * (lb - la) - la * (b - a), d: lb - la });
      if (la < 0n && lb < 0n) add(at(a), at(b));
      else if (la < 0n) add(at(a), root());
      else if (lb < 0n) add(norm(root()), at(b));
      return;
    }
    const root = (): Root => norm({ n: a * slope - la, d: slope });
    if (la < 0n) add(at(a), slope > 0n ? root() : null);
    else if (slope < 0n) add(root(), null);
  });
  const out: bigint[] = [];
  for (const { start, end } of ranges) {
    if (start.n !== 0n) out.push(ceilOf(norm(start)));
    if (end !== null) out.push(floorOf(norm(end)));
  }
  return out;
}

function norm(r: Root): Root {
  return r.d < 0n ? { n: -r.n, d: -r.d } : r;
}
