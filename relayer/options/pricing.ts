// The devnet market maker's pricing rule (docs/options.md, "The devnet market maker"): each leg at
// its intrinsic value plus a time value that is OptionsMath's at-the-money bound at the money and
// falls to 0 two and a half standard deviations away; the maker's edge against the trader on top.
// Pure and exact: the premium is one rational sum rounded up once. A toy for the devnet and tests,
// not a model anyone should quote real money with.
import { Rounding, WAD, mulDiv, sqrt } from '../margin/fixedPoint.js';
import { YEAR, checkLegs, intrinsic, timeValueBound, type OptionLeg } from '../margin/options.js';

export interface PricingParams {
  /** The maker's edge on each leg as a share of the leg's time value, in basis points. */
  readonly spreadBps: bigint;
  /** The least edge per unit of each leg, USD 1e18: no quote is ever free, so none is riskless. */
  readonly minEdge: bigint;
}

/** 10 % of the time value, at least 0.01 USD per unit of each leg. */
export const DEVNET_PRICING: PricingParams = { spreadBps: 1_000n, minEdge: 10n ** 16n };

const BPS = 10_000n;

export interface PricingInputs {
  /** The oracle price, USD 1e18. */
  readonly spot: bigint;
  /** Annualised volatility, 1e18. */
  readonly sigma: bigint;
  /** Seconds to expiry. */
  readonly seconds: bigint;
}

export interface StrategyPrice {
  /** What the trader pays (> 0) or receives (< 0), USD 1e18: fair value plus the edge, rounded up once. */
  premium: bigint;
  /** Σ sign · size · (intrinsic + time value), rounded down: what the maker thinks the legs are worth. */
  fair: bigint;
  /** premium − fair: the maker's margin, always > 0. */
  edge: bigint;
  /** OptionsMath.timeValueBound(spot, σ, t): an at-the-money leg's time value per unit. */
  atTheMoney: bigint;
  /** spot · σ · √(t / year): one standard deviation of the price at expiry (normal model), USD 1e18. */
  oneSigma: bigint;
  /** Per leg, per unit, rounded down: its time value and its fair value (intrinsic + time value). */
  legs: { timeValue: bigint; fair: bigint }[];
}

/**
 * The premium the devnet market maker asks for `legs` (docs/options.md). With B the at-the-money
 * bound and w one standard deviation, a leg struck d away from the spot has the time value
 *
 *     tv(d) = B · (1 − d / (2.5 w))³   for d < 2.5 w, else 0
 *
 * (within 1.7 % of B from Bachelier's normal-model time value at every d). Prices built this way
 * are those of a distribution of the expiry price (convex in the strike, slopes within [0, 1]), so
 * a strategy's fair value never falls below its least payoff. The maker buys at fair + edge and
 * sells at fair − edge, edge = max(spread · tv, minEdge) per unit: the premium is
 *
 *     Σ sign · size · (intrinsic + tv) + Σ size · max(spread · tv, minEdge)     rounded up once.
 */
export function priceStrategy(legs: readonly OptionLeg[], at: PricingInputs, p: PricingParams = DEVNET_PRICING): StrategyPrice {
  checkLegs(legs);
  const atTheMoney = timeValueBound(at.spot, at.sigma, at.seconds);
  // √(t / year) exactly as timeValueBound rounds it, so that w and B agree.
  const rootT = sqrt(mulDiv(at.seconds, WAD * WAD, YEAR, Rounding.Up), Rounding.Up);
  // 2.5 w = 5 · spot · σ · √t / 2 in 1e54; tv(d) = B · K³ / W³ with W = 5 · spot · σ · √t and K = max(0, W − 2 d · 1e36).
  const W = 5n * at.spot * at.sigma * rootT;
  const cube = W === 0n ? 1n : W * W * W;
  const kCube = (leg: OptionLeg): bigint => {
    if (W === 0n) return 0n;
    const d = leg.strike > at.spot ? leg.strike - at.spot : at.spot - leg.strike;
    const k = W - 2n * d * WAD * WAD;
    return k > 0n ? k * k * k : 0n;
  };
  // Everything over one denominator, W³ · 1e4 · 1e18 (size is 1e18), so the premium rounds once.
  let fairNum = 0n;
  let edgeNum = 0n;
  const perLeg = legs.map((leg) => {
    const tvNum = atTheMoney * kCube(leg); // tv · W³
    const legFair = intrinsic(leg, at.spot) * cube + tvNum; // (intrinsic + tv) · W³
    fairNum += (leg.isLong ? leg.size : -leg.size) * legFair * BPS;
    const spread = p.spreadBps * tvNum;
    const floor = p.minEdge * BPS * cube;
    edgeNum += leg.size * (spread > floor ? spread : floor);
    return { timeValue: tvNum / cube, fair: legFair / cube };
  });
  const denominator = cube * BPS * WAD;
  const premium = ceilDiv(fairNum + edgeNum, denominator);
  const fair = floorDiv(fairNum, denominator);
  return { premium, fair, edge: premium - fair, atTheMoney, oneSigma: (at.spot * at.sigma * rootT) / (WAD * WAD), legs: perLeg };
}

function floorDiv(n: bigint, d: bigint): bigint {
  const q = n / d;
  return n % d !== 0n && n < 0n ? q - 1n : q;
}

function ceilDiv(n: bigint, d: bigint): bigint {
  const q = n / d;
  return n % d !== 0n && n > 0n ? q + 1n : q;
}
