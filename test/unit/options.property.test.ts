// Properties of the options maths over arbitrary strategies (fast-check): the maximum loss of a
// defined-risk strategy is never exceeded and is attained at a breakpoint; the scenario margin of an
// uncovered one is never below the same scenarios valued by Black–Scholes (a float one, here only as
// an independent check); value at expiry is the payoff; the settlement price is the payoff's minimum.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  WAD,
  YEAR,
  isDefinedRisk,
  maxLoss,
  payoff,
  scenarioLoss,
  value,
  worstPrice,
  type OptionLeg,
  type ScenarioParams,
} from '../../relayer/margin/index.js';

const RUNS = 1_000;

/** Strikes on a 1e18 grid near an ETH-like price most of the time, anywhere up to 1e24 otherwise. */
const strikeArb = fc.oneof(
  { weight: 3, arbitrary: fc.bigInt(40n, 80n).map((k) => k * 50n * WAD) },
  { weight: 1, arbitrary: fc.bigInt(1n, 10n ** 24n) },
);
/** Sizes from 1 wei to a million units, round ones often. */
const sizeArb = fc.oneof(
  { weight: 2, arbitrary: fc.bigInt(1n, 20n).map((q) => q * (WAD / 10n)) },
  { weight: 1, arbitrary: fc.bigInt(1n, 10n ** 24n) },
);
const legArb: fc.Arbitrary<OptionLeg> = fc.record({ isCall: fc.boolean(), isLong: fc.boolean(), strike: strikeArb, size: sizeArb });
const premiumArb = fc.bigInt(-(10n ** 24n), 10n ** 24n);
const priceArb = fc.oneof(strikeArb, fc.constant(0n), fc.bigInt(0n, 10n ** 25n));

/** Up to 6 random legs, then long legs (up to 2, one per kind) covering whatever is short. */
const definedRiskArb: fc.Arbitrary<OptionLeg[]> = fc
  .tuple(fc.array(legArb, { minLength: 1, maxLength: 6 }), strikeArb, strikeArb)
  .map(([legs, callStrike, putStrike]) => {
    const out = [...legs];
    for (const [isCall, strike] of [[true, callStrike], [false, putStrike]] as const) {
      const net = legs.filter((l) => l.isCall === isCall).reduce((s, l) => s + (l.isLong ? l.size : -l.size), 0n);
      if (net < 0n) out.push({ isCall, isLong: true, strike, size: -net });
    }
    return out;
  });

/** Random legs plus one naked short: never defined risk. */
const uncoveredArb = (strikes: fc.Arbitrary<bigint>): fc.Arbitrary<OptionLeg[]> =>
  fc
    .tuple(fc.array(fc.record({ isCall: fc.boolean(), isLong: fc.boolean(), strike: strikes, size: sizeArb }), { maxLength: 5 }), fc.boolean(), strikes, sizeArb)
    .map(([legs, isCall, strike, size]) => {
      const net = legs.filter((l) => l.isCall === isCall).reduce((s, l) => s + (l.isLong ? l.size : -l.size), 0n);
      return [...legs, { isCall, isLong: false, strike, size: (net > 0n ? net : 0n) + size }];
    });

const loss = (legs: OptionLeg[], premium: bigint, s: bigint): bigint => premium - payoff(legs, s);

describe('options maths properties', function () {
  this.timeout(120_000);

  it('never lets a defined-risk strategy lose more than maxLoss, and attains maxLoss at a breakpoint', function () {
    let positive = 0;
    fc.assert(
      fc.property(definedRiskArb, premiumArb, fc.array(priceArb, { minLength: 1, maxLength: 8 }), (legs, premium, prices) => {
        assert.ok(isDefinedRisk(legs));
        const ml = maxLoss(legs, premium);
        // At every price, and around every strike and far above them all.
        const strikes = legs.map((l) => l.strike);
        const probes = [...prices, ...strikes.flatMap((k) => [k - 1n, k + 1n, k + 7n, k * 2n + 3n]), 10n ** 30n + 1n].filter((s) => s >= 0n);
        for (const s of probes) assert.ok(loss(legs, premium, s) <= ml, `loss ${loss(legs, premium, s)} at ${s} above maxLoss ${ml}`);
        // To the unit: some breakpoint's loss is maxLoss, unless no price loses at all.
        if (ml > 0n) {
          positive += 1;
          assert.ok([0n, ...strikes].some((b) => loss(legs, premium, b) === ml), `maxLoss ${ml} attained at no breakpoint`);
        } else {
          for (const b of [0n, ...strikes]) assert.ok(loss(legs, premium, b) <= 0n);
        }
      }),
      { numRuns: RUNS },
    );
    assert.ok(positive > RUNS / 4, `only ${positive} of ${RUNS} strategies could lose`);
  });

  it('asks an uncovered strategy for at least its loss in every scenario priced by Black–Scholes', function () {
    // Strikes at S₀ often, and small or no shocks often: there the bound is nearly tight (a short at
    // the money at the worst scenario), which is where an understated bound would show.
    const scenarioArb = fc.oneof(fc.bigInt(40n, 80n).map((k) => k * 50n * WAD), fc.bigInt(10n ** 15n, 10n ** 24n)).chain((s0) =>
      fc.record({
        legs: uncoveredArb(fc.oneof(fc.constant(s0), strikeArb)),
        premium: premiumArb,
        s0: fc.constant(s0),
        sigma: fc.oneof(fc.constant(800_000_000_000_000_000n), fc.bigInt(WAD / 100n, 3n * WAD)),
        t: fc.oneof(fc.constantFrom(1n, 60n, 86_400n, 7n * 86_400n, YEAR), fc.bigInt(1n, 2n * YEAR)),
        params: fc.oneof(
          fc.record({ shockBps: fc.bigInt(0n, 9_000n), volShockBps: fc.bigInt(0n, 9_000n), steps: fc.bigInt(0n, 6n) }),
          fc.record({ shockBps: fc.constant(0n), volShockBps: fc.bigInt(0n, 3_000n), steps: fc.constant(0n) }),
        ),
      }),
    );
    let tight = 0;
    fc.assert(
      fc.property(scenarioArb, ({ legs, premium, s0, sigma, t, params }) => {
        const margin = scenarioLoss(legs, premium, s0, sigma, t, params);
        const { worst, magnitude, scale } = blackScholesWorstLoss(legs, premium, s0, sigma, t, params);
        // A few wei of fixed-point rounding, and the float's own error: about 1e-16 of the largest
        // number it handles, size·S and size·K before S·N(d1) − K·N(d2) cancels, over a few operations per leg.
        const tolerance = 4 + scale * 1e-13;
        assert.ok(Number(margin) >= worst - tolerance, `scenarioLoss ${margin} below Black–Scholes' ${worst} (tolerance ${tolerance})`);
        if (worst > 0 && Number(margin) - worst < magnitude / 100) tight += 1;
      }),
      { numRuns: RUNS },
    );
    // The check has teeth: in many runs the margin is within 1 % of the largest term of Black–Scholes.
    assert.ok(tight > RUNS / 20, `only ${tight} of ${RUNS} runs came within 1 % of Black–Scholes`);
  });

  it('values a strategy at expiry exactly as its payoff', function () {
    fc.assert(
      fc.property(fc.array(legArb, { minLength: 1, maxLength: 8 }), priceArb, fc.bigInt(0n, 5n * WAD), (legs, s, sigma) => {
        assert.equal(value(legs, s, sigma, 0n), payoff(legs, s));
        // And never above it before expiry: shorts carry their time value bound, longs none.
        assert.ok(value(legs, s, sigma, 86_400n) <= payoff(legs, s));
      }),
      { numRuns: RUNS },
    );
  });

  it('settles at the price in [low, high] where the payoff is least, checked on a fine grid', function () {
    fc.assert(
      fc.property(fc.array(legArb, { minLength: 1, maxLength: 8 }), priceArb, priceArb, (legs, x, y) => {
        const [low, high] = x <= y ? [x, y] : [y, x];
        const worst = worstPrice(legs, low, high);
        assert.ok(worst >= low && worst <= high);
        const least = payoff(legs, worst);
        const grid = new Set<bigint>([low, high]);
        const width = high - low;
        for (let i = 0n; i <= 200n; i++) grid.add(low + (width * i) / 200n);
        for (const { strike } of legs) for (const s of [strike - 1n, strike, strike + 1n]) if (s >= low && s <= high) grid.add(s);
        for (const s of grid) assert.ok(least <= payoff(legs, s), `payoff ${least} at ${worst} above ${payoff(legs, s)} at ${s}`);
        // Ties among the candidates (the ends and the strikes between) go to the lowest price.
        const candidates = [low, high, ...legs.map((l) => l.strike).filter((k) => k > low && k < high)];
        for (const c of candidates) if (payoff(legs, c) === least) assert.ok(worst <= c, `a tie at ${c} below ${worst}`);
      }),
      { numRuns: RUNS },
    );
  });
});

// ---- an independent, float, Black–Scholes (r = 0): for this test only ----

/** Φ(x) via erfc, to about 1e-16 absolute: a Taylor series near 0, a continued fraction in the tails. */
function normCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  let erfc: number;
  if (z < 2.5) {
    // erf(z) = 2/√π Σ (−1)^n z^(2n+1) / (n! (2n+1))
    let term = z;
    let sum = z;
    for (let n = 1; n < 100; n++) {
      term *= (-z * z) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-18 * Math.abs(sum)) break;
    }
    erfc = 1 - (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // erfc(z) = e^(−z²)/√π · 1/(z + 1/2/(z + 1/(z + 3/2/(z + 2/(z + …))))), evaluated from the tail.
    let f = z;
    for (let n = 60; n >= 1; n--) f = z + n / 2 / f;
    erfc = Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
  }
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** The Black–Scholes price (r = 0) of one unit, USD; intrinsic at σ√T = 0 or S = 0. */
function blackScholes(isCall: boolean, s: number, k: number, sigma: number, years: number): number {
  const intrinsic = isCall ? Math.max(0, s - k) : Math.max(0, k - s);
  const v = sigma * Math.sqrt(years);
  if (v === 0 || s === 0) return intrinsic;
  const d1 = (Math.log(s / k) + (v * v) / 2) / v;
  const d2 = d1 - v;
  const price = isCall ? s * normCdf(d1) - k * normCdf(d2) : k * normCdf(-d2) - s * normCdf(-d1);
  // No arbitrage: never below intrinsic (the float may put it a hair under).
  return Math.max(price, intrinsic);
}

/**
 * The worst of premium − Σ sign·size·BS over the grid scenarioLoss uses (the same prices, σ·(1 ± Y)
 * in floats), in wei; `magnitude` is the largest term and `scale` the largest size·(S + K) or the
 * premium, in wei: what the float's rounding error is proportional to.
 */
function blackScholesWorstLoss(legs: OptionLeg[], premium: bigint, s0: bigint, sigma: bigint, t: bigint, p: ScenarioParams): { worst: number; magnitude: number; scale: number } {
  const usd = (x: bigint) => Number(x) / 1e18;
  const years = Number(t) / Number(YEAR);
  const prices: bigint[] = [s0];
  for (let i = 1n; i <= p.steps; i++) {
    const offset = (s0 * i * p.shockBps) / (10_000n * p.steps);
    prices.push(s0 + offset, offset < s0 ? s0 - offset : 0n);
  }
  const vols = [usd(sigma) * (1 + Number(p.volShockBps) / 10_000), Math.max(0, usd(sigma) * (1 - Number(p.volShockBps) / 10_000))];
  let worst = 0;
  let magnitude = Math.abs(usd(premium));
  let scale = magnitude;
  for (const s of prices) for (const v of vols) {
    let total = 0;
    for (const leg of legs) {
      const term = usd(leg.size) * blackScholes(leg.isCall, usd(s), usd(leg.strike), v, years);
      magnitude = Math.max(magnitude, Math.abs(term));
      scale = Math.max(scale, usd(leg.size) * (usd(s) + usd(leg.strike)));
      total += leg.isLong ? term : -term;
    }
    worst = Math.max(worst, usd(premium) - total);
  }
  return { worst: worst * 1e18, magnitude: magnitude * 1e18, scale: scale * 1e18 };
}
