// The options maths of docs/options.md on bigint, the twin of contracts/libraries/OptionsMath.sol:
// payoff, defined risk and its exact maximum loss, the conservative scenario margin, the settlement
// price and the volatility-scaled rate. Same rounding (against the trader), same refusals.
import { Rounding, WAD, i256, mulDiv, sqrt, u256 } from './fixedPoint.js';

/** One leg of a strategy: strike USD per unit 1e18, size asset units 1e18, both > 0. */
export interface OptionLeg {
  readonly isCall: boolean;
  readonly isLong: boolean;
  readonly strike: bigint;
  readonly size: bigint;
}

/** The scenario grid: prices s0·(1 ± i·shockBps/(1e4·steps)), i = 0..steps; σ·(1 ± volShockBps/1e4). */
export interface ScenarioParams {
  readonly shockBps: bigint;
  readonly volShockBps: bigint;
  readonly steps: bigint;
}

export const YEAR = 31_536_000n;
export const MAX_LEGS = 8;
const BPS = 10_000n;
/** 1/√(2π) = 0.398942280401432677939946…, 1e18, rounded UP (the bound is never below the exact one). */
export const INV_SQRT_2PI = 398_942_280_401_432_678n;

/** The Solidity library's custom errors, by name: a TypeScript refusal names the revert it mirrors. */
export const OptionsRevert = {
  NotDefinedRisk: 'NotDefinedRisk',
  TooManyLegs: 'TooManyLegs',
  NoLegs: 'NoLegs',
  BadLeg: 'BadLeg',
  BadRange: 'BadRange',
  BadRateBounds: 'BadRateBounds',
} as const;
export type OptionsRevert = (typeof OptionsRevert)[keyof typeof OptionsRevert];

/**
 * A strategy or argument outside the maths' domain, where OptionsMath reverts with `revert`.
 * Strategies are validated at the relayer's boundary, so inside it this is a programming error,
 * hence a RangeError rather than an IsorelayError code.
 */
export class OptionsDomainError extends RangeError {
  constructor(
    readonly revert: OptionsRevert,
    message: string,
  ) {
    super(`${revert}: ${message}`);
    this.name = 'OptionsDomainError';
  }
}

/** Throws unless there are 1 to 8 legs, each with a strike and a size above 0 (OptionsMath.check). */
export function checkLegs(legs: readonly OptionLeg[]): void {
  if (legs.length === 0) throw new OptionsDomainError(OptionsRevert.NoLegs, 'a strategy has at least one leg');
  if (legs.length > MAX_LEGS) throw new OptionsDomainError(OptionsRevert.TooManyLegs, `${legs.length} legs, at most ${MAX_LEGS}`);
  legs.forEach((leg, index) => {
    if (leg.strike <= 0n || leg.size <= 0n) throw new OptionsDomainError(OptionsRevert.BadLeg, `leg ${index} has strike ${leg.strike} and size ${leg.size}`);
    u256(leg.strike, `leg ${index} strike`);
    u256(leg.size, `leg ${index} size`);
  });
}

/** max(0, S − K) for a call, max(0, K − S) for a put, per unit. */
export function intrinsic(leg: OptionLeg, s: bigint): bigint {
  if (leg.isCall) return s > leg.strike ? s - leg.strike : 0n;
  return leg.strike > s ? leg.strike - s : 0n;
}

/**
 * Σ long size·intrinsic − Σ short size·(intrinsic + extra), exact in 1e36, rounded DOWN once
 * (toward −∞): a gain rounds down, a liability up. One rounding of the net, not one per leg, so the
 * payoff is the floor of a piecewise-linear function and its minimum over a range is at a breakpoint
 * (rounded per leg, a covered spread's flat payoff dips 1 wei between strikes: docs/options.md).
 */
function valueWith(legs: readonly OptionLeg[], s: bigint, extra: bigint): bigint {
  u256(s, 'price');
  let total = 0n;
  for (const leg of legs) {
    if (leg.isLong) {
      total = i256(total + i256(u256(leg.size * intrinsic(leg, s), 'size·intrinsic'), 'long leg payoff'), 'payoff');
    } else {
      const owed = u256(leg.size * u256(intrinsic(leg, s) + extra, 'intrinsic + time value'), 'size·(intrinsic + time value)');
      total = i256(total - i256(owed, 'short leg liability'), 'payoff');
    }
  }
  const quotient = total / WAD;
  return total % WAD < 0n ? quotient - 1n : quotient;
}

/** The payoff to the trader at expiry price s: the exact net, rounded down once (gains down, liabilities up). */
export function payoff(legs: readonly OptionLeg[], s: bigint): bigint {
  checkLegs(legs);
  return valueWith(legs, s, 0n);
}

/** Net call size and net put size both ≥ 0: every short leg is covered by a long of its kind. */
export function isDefinedRisk(legs: readonly OptionLeg[]): boolean {
  checkLegs(legs);
  let calls = 0n;
  let puts = 0n;
  for (const leg of legs) {
    const signed = leg.isLong ? i256(leg.size, 'size') : -i256(leg.size, 'size');
    if (leg.isCall) calls = i256(calls + signed, 'net call size');
    else puts = i256(puts + signed, 'net put size');
  }
  return calls >= 0n && puts >= 0n;
}

/** max(0, max over B in {0} ∪ strikes of premium − payoff(B)); throws NotDefinedRisk when uncovered. */
export function maxLoss(legs: readonly OptionLeg[], premium: bigint): bigint {
  if (!isDefinedRisk(legs)) throw new OptionsDomainError(OptionsRevert.NotDefinedRisk, 'a short leg is not covered by a long of its kind');
  i256(premium, 'premium');
  let worst = i256(premium - valueWith(legs, 0n, 0n), 'loss');
  for (const leg of legs) {
    const loss = i256(premium - valueWith(legs, leg.strike, 0n), 'loss');
    if (loss > worst) worst = loss;
  }
  return worst > 0n ? worst : 0n;
}

/**
 * s·σ·√(t/YEAR)/√(2π) rounded UP: √(t/YEAR) is ⌈√(t·1e36/YEAR)⌉ in 1e18, 1/√(2π) is
 * INV_SQRT_2PI, then one rounding up of the product s·σ·√(t/YEAR)·INV_SQRT_2PI / 1e54.
 */
export function timeValueBound(s: bigint, sigma: bigint, t: bigint): bigint {
  const rootT = sqrt(mulDiv(t, WAD * WAD, YEAR, Rounding.Up), Rounding.Up);
  return mulDiv(u256(s * u256(sigma, 'sigma'), 's·sigma'), u256(rootT * INV_SQRT_2PI, '√t·1/√(2π)'), WAD * WAD * WAD, Rounding.Up);
}

/** Longs at intrinsic, shorts at intrinsic + timeValueBound(s, σ, t), the net rounded down. payoff when t = 0. */
export function value(legs: readonly OptionLeg[], s: bigint, sigma: bigint, t: bigint): bigint {
  checkLegs(legs);
  return valueWith(legs, s, timeValueBound(s, sigma, t));
}

/**
 * max(0, max over the grid of premium − value): prices s0·(1 ± i·shock/steps), i = 0..steps (the
 * offset from s0 rounded toward s0, clamped at 0 below), volatility σ·(1 + volShock) rounded up
 * (value never rises with σ, so σ·(1 − volShock) never adds a worse scenario). steps = 0 is s0 alone.
 */
export function scenarioLoss(legs: readonly OptionLeg[], premium: bigint, s0: bigint, sigma: bigint, t: bigint, p: ScenarioParams): bigint {
  checkLegs(legs);
  i256(premium, 'premium');
  const sigmaUp = mulDiv(sigma, u256(BPS + p.volShockBps, '1e4 + volShockBps'), BPS, Rounding.Up);
  const lossAt = (s: bigint) => i256(premium - valueWith(legs, s, timeValueBound(s, sigmaUp, t)), 'loss');
  let worst = 0n;
  for (let i = 0n; i <= p.steps; i++) {
    const offset = p.steps === 0n ? 0n : mulDiv(s0, u256(i * p.shockBps, 'i·shockBps'), u256(BPS * p.steps, '1e4·steps'), Rounding.Down);
    const above = lossAt(u256(s0 + offset, 's0 + offset'));
    if (above > worst) worst = above;
    if (i === 0n) continue;
    const below = lossAt(offset < s0 ? s0 - offset : 0n);
    if (below > worst) worst = below;
  }
  return worst;
}

/** The price in [low, high] worst for the trader: argmin of payoff over low, high and the strikes between (lowest on ties). */
export function worstPrice(legs: readonly OptionLeg[], low: bigint, high: bigint): bigint {
  checkLegs(legs);
  if (low > high) throw new OptionsDomainError(OptionsRevert.BadRange, `low ${low} is above high ${high}`);
  let price = low;
  let least = valueWith(legs, low, 0n);
  for (const { strike } of legs) {
    if (strike <= low || strike >= high) continue;
    const at = valueWith(legs, strike, 0n);
    if (at < least || (at === least && strike < price)) [least, price] = [at, strike];
  }
  return valueWith(legs, high, 0n) < least ? high : price;
}

/**
 * The price in [low, high] at which an uncovered strategy is liquidated (EngineOptions._liquidationPrice):
 * the one BEST for its trader, argmax of value(legs, ·, σ, t) over low, high and the strikes between
 * (value is piecewise linear between strikes; the lowest on ties). Its breach is judged and its close
 * made there, as a perpetual's at the end of the range best for it (a long at high).
 */
export function liquidationPrice(legs: readonly OptionLeg[], low: bigint, high: bigint, sigma: bigint, t: bigint): bigint {
  checkLegs(legs);
  if (low > high) throw new OptionsDomainError(OptionsRevert.BadRange, `low ${low} is above high ${high}`);
  const at = (s: bigint) => valueWith(legs, s, timeValueBound(s, sigma, t));
  let price = low;
  let best = at(low);
  for (const { strike } of legs) {
    if (strike <= low || strike >= high) continue;
    const v = at(strike);
    if (v > best || (v === best && strike < price)) [best, price] = [v, strike];
  }
  return at(high) > best ? high : price;
}

/** clamp(⌈mmr·σ/σ_ref⌉, mmrMin, mmrMax); mmr unchanged when σ_ref = 0. */
export function scaledRate(mmr: bigint, sigma: bigint, sigmaRef: bigint, mmrMin: bigint, mmrMax: bigint): bigint {
  if (sigmaRef === 0n) return mmr;
  if (mmrMin > mmrMax) throw new OptionsDomainError(OptionsRevert.BadRateBounds, `mmrMin ${mmrMin} is above mmrMax ${mmrMax}`);
  const rate = mulDiv(mmr, sigma, sigmaRef, Rounding.Up);
  return rate < mmrMin ? mmrMin : rate > mmrMax ? mmrMax : rate;
}

/** For display: Σ sign·size over the legs in the money at s (call s > K, put s < K; a put's delta negative). */
export function intrinsicDelta(legs: readonly OptionLeg[], s: bigint): bigint {
  checkLegs(legs);
  let delta = 0n;
  for (const leg of legs) {
    const inMoney = leg.isCall ? s > leg.strike : s < leg.strike;
    if (!inMoney) continue;
    const size = i256(leg.size, 'size');
    delta = i256(delta + (leg.isCall === leg.isLong ? size : -size), 'delta');
  }
  return delta;
}
