// Generates test/vectors/options.json, the shared vectors of the options maths (docs/options.md).
// Deliberately independent of relayer/margin/options.ts and contracts/libraries/OptionsMath.sol:
// every formula is evaluated in exact rational arithmetic on the real quantities (strikes in USD,
// sizes in units, years), candidates are enumerated rather than derived, square roots are found by
// bisection, 1/√(2π) is derived from π, and only final results are rounded, as the docs say.
// Run: npx tsx scripts/gen-options-vectors.ts [--check]
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ONE, Q } from './rational.js';

export const optionsVectorsPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'vectors', 'options.json');

export interface LegVector {
  isCall: boolean;
  isLong: boolean;
  strike: string;
  size: string;
}

export interface ScenarioParamsVector {
  shockBps: string;
  volShockBps: string;
  steps: string;
}

export interface StrategyVector {
  name: string;
  legs: LegVector[];
  premium: string;
  definedRisk: boolean;
  /** null: not defined risk, maxLoss reverts NotDefinedRisk. */
  maxLoss: string | null;
  payoffs: { price: string; payoff: string; intrinsicDelta: string }[];
  values: { s: string; sigma: string; t: string; value: string }[];
  scenarioLosses: { s0: string; sigma: string; t: string; params: ScenarioParamsVector; loss: string }[];
  worstPrices: { low: string; high: string; price: string }[];
}

export interface TimeValueBoundVector {
  s: string;
  sigma: string;
  t: string;
  bound: string;
}

export interface ScaledRateVector {
  name: string;
  mmr: string;
  sigma: string;
  sigmaRef: string;
  mmrMin: string;
  mmrMax: string;
  rate: string;
}

export type OptionsCall =
  | { fn: 'payoff'; legs: LegVector[]; price: string }
  | { fn: 'maxLoss'; legs: LegVector[]; premium: string }
  | { fn: 'worstPrice'; legs: LegVector[]; low: string; high: string }
  | { fn: 'scaledRate'; mmr: string; sigma: string; sigmaRef: string; mmrMin: string; mmrMax: string };

/** A call both implementations refuse, with the Solidity custom error's name. */
export interface RefusalVector {
  name: string;
  call: OptionsCall;
  revert: 'NotDefinedRisk' | 'TooManyLegs' | 'NoLegs' | 'BadLeg' | 'BadRange' | 'BadRateBounds';
}

/** The keeper's estimator (TypeScript only): variance and σ, 1e18, both rounded up. */
export interface EwmaVector {
  name: string;
  prev: string | null;
  prevPrice: string;
  price: string;
  dt: string;
  lambda: string;
  variance: string;
  sigma: string;
}

export interface OptionsVectors {
  invSqrt2Pi: string;
  strategies: StrategyVector[];
  timeValueBound: TimeValueBoundVector[];
  scaledRate: ScaledRateVector[];
  refusals: RefusalVector[];
  ewma: EwmaVector[];
}

const YEAR_SECONDS = 31_536_000n;
const e18 = (units: number | bigint): bigint => BigInt(units) * ONE;


const ZERO = new Q(0n);

/** The smallest integer r ≥ 0 with r² ≥ x (x ≥ 0 rational), by bisection. */
function ceilSqrt(x: Q): bigint {
  let lo = 0n;
  let hi = 1n;
  while (new Q(hi * hi).cmp(x) < 0) hi *= 2n;
  while (lo < hi) {
    const mid = (lo + hi) / 2n;
    if (new Q(mid * mid).cmp(x) >= 0) hi = mid;
    else lo = mid + 1n;
  }
  return lo;
}

/** π to 60 decimals, and an interval one unit of the last decimal wide around it. */
const PI_60 = 3_141592653589793238462643383279502884197169399375105820974944n;
const PI_SCALE = 10n ** 60n;

/** ⌈1e18/√(2π)⌉: the smallest c with c²·2π ≥ 1e36, the same for both ends of π's interval. */
function invSqrt2Pi(): bigint {
  const at = (pi: bigint) => ceilSqrt(new Q(ONE * ONE * PI_SCALE, 2n * pi));
  const low = at(PI_60 + 1n);
  const high = at(PI_60);
  if (low !== high) throw new Error('π is not precise enough for 1/√(2π) at 1e18');
  return low;
}
const C = invSqrt2Pi();

interface Leg {
  isCall: boolean;
  isLong: boolean;
  K: Q;
  q: Q;
}

function legsOf(v: LegVector[]): Leg[] {
  return v.map((l) => ({ isCall: l.isCall, isLong: l.isLong, K: Q.wad(BigInt(l.strike)), q: Q.wad(BigInt(l.size)) }));
}

function intrinsic(leg: Leg, S: Q): Q {
  const x = leg.isCall ? S.sub(leg.K) : leg.K.sub(S);
  return x.cmp(ZERO) > 0 ? x : ZERO;
}

/** The exact value in USD: longs at intrinsic, shorts at intrinsic + `extra` per unit. */
function exactValue(legs: Leg[], S: Q, extra: Q): Q {
  return legs.reduce((sum, leg) => {
    const owed = leg.isLong ? intrinsic(leg, S) : intrinsic(leg, S).add(extra);
    return leg.isLong ? sum.add(leg.q.mul(owed)) : sum.sub(leg.q.mul(owed));
  }, ZERO);
}

/** payoff: the exact net rounded toward −∞ once (docs/options.md). */
const payoffRef = (legs: Leg[], S: bigint): bigint => exactValue(legs, Q.wad(S), ZERO).wadFloor();

function definedRiskRef(legs: Leg[]): boolean {
  const net = (calls: boolean) => legs.filter((l) => l.isCall === calls).reduce((s, l) => (l.isLong ? s.add(l.q) : s.sub(l.q)), ZERO);
  return net(true).cmp(ZERO) >= 0 && net(false).cmp(ZERO) >= 0;
}

function maxLossRef(legs: Leg[], premium: bigint, strikes: bigint[]): bigint {
  const lossAt = (S: bigint) => premium - payoffRef(legs, S);
  let worst = 0n;
  for (const B of [0n, ...strikes]) if (lossAt(B) > worst) worst = lossAt(B);
  // The breakpoints' answer, checked on probes between and beyond them: the payoff is the floor of
  // a piecewise-linear function, non-decreasing above the last strike for defined risk.
  const sorted = [...new Set([0n, ...strikes])].sort((a, b) => (a < b ? -1 : 1));
  const probes = sorted.flatMap((b, i) => [b + 1n, (b + (sorted[i + 1] ?? b * 3n + ONE)) / 2n, b * 10n + 7n]);
  for (const S of probes) if (lossAt(S) > worst) throw new Error(`loss ${lossAt(S)} at ${S} above the breakpoints' ${worst}`);
  return worst;
}

/** ⌈s·σ·√(t/YEAR)/√(2π)⌉ with √(t/YEAR) as ⌈√(t·1e36/YEAR)⌉ and 1/√(2π) as ⌈·⌉ at 1e18 (docs). */
function timeValueBoundRef(s: bigint, sigma: bigint, t: bigint): bigint {
  const rootT = ceilSqrt(new Q(t * ONE * ONE, YEAR_SECONDS));
  return Q.wad(s).mul(Q.wad(sigma)).mul(Q.wad(rootT)).mul(Q.wad(C)).wadCeil();
}

const valueRef = (legs: Leg[], s: bigint, sigma: bigint, t: bigint): bigint =>
  exactValue(legs, Q.wad(s), Q.wad(timeValueBoundRef(s, sigma, t))).wadFloor();

/** Every grid point at both volatilities, as docs/options.md lists them. */
function scenarioLossRef(legs: Leg[], premium: bigint, s0: bigint, sigma: bigint, t: bigint, p: { shockBps: bigint; volShockBps: bigint; steps: bigint }): bigint {
  const vols = [new Q(sigma * (10_000n + p.volShockBps), 10_000n).ceil()];
  const down = new Q(sigma * (10_000n - p.volShockBps), 10_000n).floor();
  vols.push(down > 0n ? down : 0n);
  const prices: bigint[] = [];
  const n = p.steps;
  for (let i = -n; i <= n; i++) {
    if (n === 0n) {
      prices.push(s0);
      break;
    }
    // s0·(1 + i·X/n), the offset from s0 rounded toward s0, clamped at 0.
    const offset = new Q(s0 * (i < 0n ? -i : i) * p.shockBps, 10_000n * n).floor();
    const price = i < 0n ? s0 - offset : s0 + offset;
    prices.push(price > 0n ? price : 0n);
  }
  let worst = 0n;
  for (const v of vols) for (const S of prices) {
    const loss = premium - valueRef(legs, S, v, t);
    if (loss > worst) worst = loss;
  }
  return worst;
}

function worstPriceRef(legs: Leg[], strikes: bigint[], low: bigint, high: bigint): bigint {
  const candidates = [...new Set([low, high, ...strikes.filter((k) => k > low && k < high)])].sort((a, b) => (a < b ? -1 : 1));
  let best = candidates[0] ?? low;
  for (const S of candidates) if (payoffRef(legs, S) < payoffRef(legs, best)) best = S;
  return best;
}

function intrinsicDeltaRef(legs: LegVector[], S: bigint): bigint {
  let d = 0n;
  for (const l of legs) {
    const K = BigInt(l.strike);
    if (l.isCall ? S > K : S < K) d += (l.isCall ? 1n : -1n) * (l.isLong ? 1n : -1n) * BigInt(l.size);
  }
  return d;
}

function scaledRateRef(mmr: bigint, sigma: bigint, sigmaRef: bigint, mmrMin: bigint, mmrMax: bigint): bigint {
  if (sigmaRef === 0n) return mmr;
  const r = new Q(mmr * sigma, sigmaRef).ceil();
  return r < mmrMin ? mmrMin : r > mmrMax ? mmrMax : r;
}

// ---- the cases ----

type L = [call: 'C' | 'P', side: '+' | '-', strike: bigint, size: bigint];
const leg = ([c, s, K, q]: L): LegVector => ({ isCall: c === 'C', isLong: s === '+', strike: K.toString(), size: q.toString() });

interface StrategyCase {
  name: string;
  legs: L[];
  premium: bigint;
  /** The price the scenarios are centred on. */
  s0: bigint;
  /** Extra prices to evaluate payoff at (besides 0, 1, s0, every strike and its neighbours, a huge price). */
  prices?: bigint[];
  huge?: bigint;
}

const S0 = e18(3000);
const U = ONE; // one unit of the asset
const ODD_K = 3_333_333_333_333_333_333_333n;
const ODD_Q = 1_234_567_891_234_567_891n;
const BIG_Q = 10n ** 30n; // 1e12 units

const cases: StrategyCase[] = [
  { name: 'long call at the money', legs: [['C', '+', e18(3000), U]], premium: e18(120), s0: S0 },
  { name: 'short call (naked), out of the money', legs: [['C', '-', e18(3500), U]], premium: -e18(80), s0: S0 },
  { name: 'long put, 2 units', legs: [['P', '+', e18(2800), 2n * U]], premium: e18(150), s0: S0 },
  { name: 'short put (uncovered)', legs: [['P', '-', e18(2800), U]], premium: -e18(60), s0: S0 },
  { name: 'call vertical, debit (long 3000 / short 3200)', legs: [['C', '+', e18(3000), U], ['C', '-', e18(3200), U]], premium: e18(80), s0: S0 },
  { name: 'call vertical, credit (short 3000 / long 3200)', legs: [['C', '-', e18(3000), U], ['C', '+', e18(3200), U]], premium: -e18(110), s0: S0 },
  { name: 'put vertical, debit (long 3000 / short 2800)', legs: [['P', '+', e18(3000), U], ['P', '-', e18(2800), U]], premium: e18(70), s0: S0 },
  { name: 'put vertical, credit (short 3000 / long 2800)', legs: [['P', '-', e18(3000), U], ['P', '+', e18(2800), U]], premium: -e18(90), s0: S0 },
  { name: 'long straddle', legs: [['C', '+', e18(3000), U], ['P', '+', e18(3000), U]], premium: e18(300), s0: S0 },
  { name: 'short straddle', legs: [['C', '-', e18(3000), U], ['P', '-', e18(3000), U]], premium: -e18(300), s0: S0 },
  { name: 'long strangle', legs: [['P', '+', e18(2800), U], ['C', '+', e18(3200), U]], premium: e18(150), s0: S0 },
  { name: 'short strangle', legs: [['P', '-', e18(2800), U], ['C', '-', e18(3200), U]], premium: -e18(150), s0: S0 },
  {
    name: 'iron condor, credit (docs/options.md worked example)',
    legs: [['P', '+', e18(2600), 2n * U], ['P', '-', e18(2800), 2n * U], ['C', '-', e18(3200), 2n * U], ['C', '+', e18(3400), 2n * U]],
    premium: -e18(160),
    s0: S0,
    prices: [e18(2680), e18(2720), e18(3280), e18(3300)],
  },
  { name: 'long call butterfly 2900/3000/3100', legs: [['C', '+', e18(2900), U], ['C', '-', e18(3000), 2n * U], ['C', '+', e18(3100), U]], premium: e18(20), s0: S0 },
  { name: 'iron butterfly, credit', legs: [['P', '+', e18(2800), U], ['P', '-', e18(3000), U], ['C', '-', e18(3000), U], ['C', '+', e18(3200), U]], premium: -e18(130), s0: S0 },
  { name: 'call ratio spread 1×2 (uncovered)', legs: [['C', '+', e18(3000), U], ['C', '-', e18(3200), 2n * U]], premium: -e18(10), s0: S0 },
  { name: 'put ratio backspread 1×2 (covered)', legs: [['P', '-', e18(3000), U], ['P', '+', e18(2800), 2n * U]], premium: e18(5), s0: S0 },
  { name: 'call ratio backspread 1×2 (covered)', legs: [['C', '-', e18(3000), U], ['C', '+', e18(3200), 2n * U]], premium: -e18(15), s0: S0 },
  {
    name: 'odd strikes and sizes (every rounding bites)',
    legs: [['C', '+', ODD_K, ODD_Q], ['C', '-', ODD_K + 77_777_777_777_777_777_777n, ODD_Q], ['P', '-', ODD_K - 1n, ODD_Q + 3n], ['P', '+', 2_999_999_999_999_999_999_999n, ODD_Q + 3n]],
    premium: -123_456_789_012_345_678_901n,
    s0: ODD_K + 1n,
    prices: [ODD_K + 333n, 3_111_111_111_111_111_111_111n],
  },
  {
    name: 'covered call spread with odd size: flat above the strikes',
    legs: [['C', '+', e18(3000) + 1n, 999_999_999_999_999_999n], ['C', '-', e18(3100) + 3n, 999_999_999_999_999_999n]],
    premium: e18(40) + 7n,
    s0: S0,
    prices: [e18(3100) + 4n, e18(3100) + 5n, e18(5000) + 1n, e18(5000) + 2n],
  },
  { name: 'tiny size: long call of 1 wei', legs: [['C', '+', e18(3000), 1n]], premium: 1n, s0: S0 },
  { name: 'tiny size: short put of 1 wei', legs: [['P', '-', e18(3000), 1n]], premium: -1n, s0: S0 },
  { name: 'tiny strikes: 1 wei put spread', legs: [['P', '+', 3n, 1000n], ['P', '-', 1n, 1000n]], premium: 0n, s0: 2n, prices: [2n], huge: 10n ** 40n },
  {
    name: 'large size (1e12 units): iron condor',
    legs: [['P', '+', e18(2600), BIG_Q], ['P', '-', e18(2800), BIG_Q], ['C', '-', e18(3200), BIG_Q], ['C', '+', e18(3400), BIG_Q]],
    premium: -(BIG_Q * 160n),
    s0: S0,
    huge: 10n ** 36n,
  },
  { name: 'large size (1e12 units): naked call', legs: [['C', '-', e18(3500), BIG_Q]], premium: -(BIG_Q * 80n), s0: S0, huge: 10n ** 36n },
  { name: 'premium 0: long put', legs: [['P', '+', e18(3000), U]], premium: 0n, s0: S0 },
  { name: 'strike at the price, split across two legs', legs: [['C', '+', S0, U / 2n], ['C', '+', S0, U / 2n], ['C', '-', S0 + e18(100), U]], premium: e18(50), s0: S0 },
  {
    name: 'eight legs: condor and butterfly',
    legs: [
      ['P', '+', e18(2500), U], ['P', '-', e18(2700), U], ['C', '-', e18(3300), U], ['C', '+', e18(3500), U],
      ['C', '+', e18(2900), U], ['C', '-', e18(3000), 2n * U], ['C', '+', e18(3100), U], ['P', '+', e18(3000), U / 10n],
    ],
    premium: -e18(60),
    s0: S0,
  },
  { name: 'custom uncovered: short put spread plus naked call', legs: [['P', '-', e18(2900), U], ['P', '+', e18(2700), U], ['C', '-', e18(3300), 3n * U]], premium: -e18(200), s0: S0 },
];

const T_DAY = 86_400n;
const SIGMA = 800_000_000_000_000_000n; // 80 %
const scenarioParams = [
  { shockBps: 2_000n, volShockBps: 3_000n, steps: 10n },
  { shockBps: 1_500n, volShockBps: 0n, steps: 4n },
  { shockBps: 5_000n, volShockBps: 10_000n, steps: 1n },
  { shockBps: 12_000n, volShockBps: 15_000n, steps: 3n }, // prices and σ·(1 − Y) clamp at 0
  { shockBps: 2_000n, volShockBps: 3_000n, steps: 0n }, // s0 alone
];
const strParams = (p: (typeof scenarioParams)[number]): ScenarioParamsVector => ({ shockBps: p.shockBps.toString(), volShockBps: p.volShockBps.toString(), steps: p.steps.toString() });

function strategyVector(c: StrategyCase): StrategyVector {
  const legs = c.legs.map(leg);
  const exact = legsOf(legs);
  const strikes = legs.map((l) => BigInt(l.strike));
  const huge = c.huge ?? e18(10n ** 12n);
  const priceSet = new Set<bigint>([0n, 1n, c.s0, huge, ...(c.prices ?? [])]);
  for (const k of strikes) for (const p of [k - 1n, k, k + 1n]) if (p >= 0n) priceSet.add(p);
  const prices = [...priceSet].sort((a, b) => (a < b ? -1 : 1));
  const definedRisk = definedRiskRef(exact);

  const values = [];
  for (const t of [0n, T_DAY, YEAR_SECONDS]) for (const [s, sigma] of [[c.s0, SIGMA], [strikes[0] ?? c.s0, SIGMA], [c.s0, 0n]] as const) {
    values.push({ s: s.toString(), sigma: sigma.toString(), t: t.toString(), value: valueRef(exact, s, sigma, t).toString() });
  }
  const scenarioLosses = [];
  for (const t of [0n, T_DAY, YEAR_SECONDS]) for (const p of scenarioParams) {
    if (t !== T_DAY && p !== scenarioParams[0]) continue; // every params at 1 day; the first at t = 0 and 1 year
    scenarioLosses.push({ s0: c.s0.toString(), sigma: SIGMA.toString(), t: t.toString(), params: strParams(p), loss: scenarioLossRef(exact, c.premium, c.s0, SIGMA, t, p).toString() });
  }
  const lo = strikes.reduce((a, b) => (a < b ? a : b));
  const hi = strikes.reduce((a, b) => (a > b ? a : b));
  const ranges: [bigint, bigint][] = [
    [c.s0 - c.s0 / 300n, c.s0 + c.s0 / 300n],
    [lo > 1n ? lo - 1n : 0n, hi + 1n],
    [lo, hi],
    [c.s0, c.s0],
    [0n, huge],
  ];
  return {
    name: c.name,
    legs,
    premium: c.premium.toString(),
    definedRisk,
    maxLoss: definedRisk ? maxLossRef(exact, c.premium, strikes).toString() : null,
    payoffs: prices.map((p) => ({ price: p.toString(), payoff: payoffRef(exact, p).toString(), intrinsicDelta: intrinsicDeltaRef(legs, p).toString() })),
    values,
    scenarioLosses,
    worstPrices: ranges.map(([low, high]) => ({ low: low.toString(), high: high.toString(), price: worstPriceRef(exact, strikes, low, high).toString() })),
  };
}

function timeValueBoundVectors(): TimeValueBoundVector[] {
  const out: TimeValueBoundVector[] = [];
  for (const s of [0n, 1n, S0, ODD_K, 10n ** 30n]) for (const sigma of [0n, 1n, SIGMA, 5n * ONE]) for (const t of [0n, 1n, T_DAY, YEAR_SECONDS, 4n * YEAR_SECONDS]) {
    out.push({ s: s.toString(), sigma: sigma.toString(), t: t.toString(), bound: timeValueBoundRef(s, sigma, t).toString() });
  }
  return out;
}

function scaledRateVectors(): ScaledRateVector[] {
  const v = (name: string, mmr: bigint, sigma: bigint, sigmaRef: bigint, mmrMin: bigint, mmrMax: bigint): ScaledRateVector => ({
    name, mmr: mmr.toString(), sigma: sigma.toString(), sigmaRef: sigmaRef.toString(), mmrMin: mmrMin.toString(), mmrMax: mmrMax.toString(),
    rate: scaledRateRef(mmr, sigma, sigmaRef, mmrMin, mmrMax).toString(),
  });
  const mmr = ONE / 20n;
  const [min, max] = [ONE / 50n, ONE / 5n];
  return [
    v('σ above σ_ref, rounded up', mmr, SIGMA, 600_000_000_000_000_000n, min, max),
    v('σ below σ_ref', mmr, 300_000_000_000_000_000n, 600_000_000_000_000_000n, min, max),
    v('σ = σ_ref', mmr, SIGMA, SIGMA, min, max),
    v('clamped at mmrMin', mmr, 100_000_000_000_000_000n, SIGMA, min, max),
    v('clamped at mmrMax', mmr, 5n * ONE, 500_000_000_000_000_000n, min, max),
    v('σ = 0: mmrMin', mmr, 0n, SIGMA, min, max),
    v('σ_ref = 0: mmr unchanged, even outside the bounds', ONE / 2n, SIGMA, 0n, min, max),
    v('mmrMin = mmrMax', mmr, SIGMA, 600_000_000_000_000_000n, ONE / 10n, ONE / 10n),
    v('odd values, rounding bites', 33_333_333_333_333_333n, 777_777_777_777_777_777n, 700_000_000_000_000_001n, 0n, ONE),
  ];
}

function refusals(): RefusalVector[] {
  const call = leg(['C', '+', e18(3000), U]);
  const nine = Array.from({ length: 9 }, () => call);
  return [
    { name: 'no legs', call: { fn: 'payoff', legs: [], price: S0.toString() }, revert: 'NoLegs' },
    { name: 'nine legs', call: { fn: 'payoff', legs: nine, price: S0.toString() }, revert: 'TooManyLegs' },
    { name: 'strike 0', call: { fn: 'payoff', legs: [call, leg(['P', '+', 0n, U])], price: S0.toString() }, revert: 'BadLeg' },
    { name: 'size 0', call: { fn: 'worstPrice', legs: [leg(['P', '-', e18(2000), 0n])], low: '0', high: S0.toString() }, revert: 'BadLeg' },
    { name: 'maxLoss of a naked call', call: { fn: 'maxLoss', legs: [leg(['C', '-', e18(3500), U])], premium: '0' }, revert: 'NotDefinedRisk' },
    { name: 'maxLoss of a naked put', call: { fn: 'maxLoss', legs: [leg(['P', '-', e18(2500), U])], premium: '0' }, revert: 'NotDefinedRisk' },
    { name: 'maxLoss of a 1×2 call ratio spread', call: { fn: 'maxLoss', legs: [call, leg(['C', '-', e18(3200), 2n * U])], premium: '0' }, revert: 'NotDefinedRisk' },
    { name: 'maxLoss of 8 legs one short put uncovered by 1 wei', call: { fn: 'maxLoss', legs: [...Array.from({ length: 7 }, () => leg(['P', '+', e18(2000), U])), leg(['P', '-', e18(2100), 7n * U + 1n])], premium: '0' }, revert: 'NotDefinedRisk' },
    { name: 'worstPrice with low above high', call: { fn: 'worstPrice', legs: [call], low: (S0 + 1n).toString(), high: S0.toString() }, revert: 'BadRange' },
    { name: 'scaledRate with mmrMin above mmrMax', call: { fn: 'scaledRate', mmr: (ONE / 20n).toString(), sigma: SIGMA.toString(), sigmaRef: SIGMA.toString(), mmrMin: (ONE / 5n).toString(), mmrMax: (ONE / 10n).toString() }, revert: 'BadRateBounds' },
  ];
}

/** v ← λv + (1 − λ)·r²·YEAR/Δt (first sample: r²·YEAR/Δt), r = (p − prev)/prev exact; v and σ = √v rounded up. */
function ewmaVectors(): EwmaVector[] {
  const lambda = 940_000_000_000_000_000n;
  const step = (prev: bigint | null, p0: bigint, p1: bigint, dt: bigint, lam = lambda): EwmaVector & { v: bigint } => {
    const r = new Q(p1 - p0, p0);
    const annual = r.mul(r).mul(new Q(YEAR_SECONDS, dt));
    const exact = prev === null ? annual : Q.wad(lam).mul(Q.wad(prev)).add(new Q(1n).sub(Q.wad(lam)).mul(annual));
    const v = exact.wadCeil();
    const sigma = ceilSqrt(new Q(v * ONE));
    return { name: '', prev: prev === null ? null : prev.toString(), prevPrice: p0.toString(), price: p1.toString(), dt: dt.toString(), lambda: lam.toString(), variance: v.toString(), sigma: sigma.toString(), v };
  };
  const out: EwmaVector[] = [];
  const push = (name: string, x: EwmaVector & { v: bigint }) => {
    const { v: _v, ...rest } = x;
    out.push({ ...rest, name });
    return x.v;
  };
  // A day-by-day series: +1 %, −1 %, flat, +3 % over an hour, odd prices.
  let v = push('first sample: a 1 % daily move', step(null, e18(3000), e18(3030), T_DAY));
  v = push('−1 % the next day', step(v, e18(3030), e18(3000), T_DAY));
  v = push('flat: the variance decays by λ', step(v, e18(3000), e18(3000), T_DAY));
  v = push('+3 % within an hour', step(v, e18(3000), e18(3090), 3_600n));
  push('odd prices, 13 s apart', step(v, 3_090_123_456_789_012_345_678n, 3_089_987_654_321_098_765_432n, 13n));
  push('first sample of no move: 0', step(null, e18(3000), e18(3000), T_DAY));
  push('λ = 0: the last sample alone', step(e18(1), e18(100), e18(101), T_DAY, 0n));
  push('λ = 1: the variance kept', step(e18(1), e18(100), e18(150), T_DAY, ONE));
  push('a price of 1 wei to 2 wei in 1 s', step(null, 1n, 2n, 1n));
  return out;
}

export function buildOptionsVectors(): OptionsVectors {
  return {
    invSqrt2Pi: C.toString(),
    strategies: cases.map(strategyVector),
    timeValueBound: timeValueBoundVectors(),
    scaledRate: scaledRateVectors(),
    refusals: refusals(),
    ewma: ewmaVectors(),
  };
}

export function renderOptionsVectors(vectors: OptionsVectors): string {
  return JSON.stringify(vectors, null, 1) + '\n';
}

function main(): void {
  const rendered = renderOptionsVectors(buildOptionsVectors());
  if (process.argv.includes('--check')) {
    if (readFileSync(optionsVectorsPath, 'utf8') !== rendered) {
      console.error(`${optionsVectorsPath} is stale: run npx tsx scripts/gen-options-vectors.ts`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(optionsVectorsPath, rendered);
  console.log(`wrote ${optionsVectorsPath}`);
}

const entry = process.argv[1];
if (entry !== undefined && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))) main();
