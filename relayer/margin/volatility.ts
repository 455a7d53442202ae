// The keeper's volatility estimator (docs/options.md, "Volatility-aware maintenance margin"): an
// EWMA of the annualised squared returns of the reconciled median, in 1e18, and σ = √v.
// Both round UP: a higher σ asks for more margin, never less.
import { Rounding, WAD, sqrt, u256 } from './fixedPoint.js';
import { YEAR } from './options.js';

/** λ = 0.94, RiskMetrics' daily decay. */
export const DEFAULT_LAMBDA = 940_000_000_000_000_000n;

/**
 * v ← λ·v + (1 − λ)·r²·(YEAR/Δt) with r = (p − prev)/prev; the first sample (prev = null) is the
 * r²·(YEAR/Δt) term alone. r is never rounded: the new variance is the exact rational
 *   λ·v/1e18 + (1e18 − λ)·(p − prev)²·YEAR / (prev²·Δt)
 * rounded up once (1e18 = a variance of 1, i.e. 100 % volatility squared).
 */
export function ewmaVariance(prev: bigint | null, prevPrice: bigint, price: bigint, dtSeconds: number | bigint, lambda1e18: bigint = DEFAULT_LAMBDA): bigint {
  if (prevPrice <= 0n) throw new RangeError(`previous price must be > 0: ${prevPrice}`);
  u256(price, 'price');
  if (typeof dtSeconds === 'number' && !Number.isSafeInteger(dtSeconds)) throw new RangeError(`dtSeconds must be a whole number of seconds: ${dtSeconds}`);
  const dt = BigInt(dtSeconds);
  if (dt <= 0n) throw new RangeError(`dtSeconds must be > 0: ${dt}`);
  if (lambda1e18 < 0n || lambda1e18 > WAD) throw new RangeError(`lambda must be in [0, 1e18]: ${lambda1e18}`);
  if (prev !== null && prev < 0n) throw new RangeError(`previous variance must be ≥ 0: ${prev}`);

  const move = price - prevPrice;
  const squared = move * move * YEAR;
  const scale = prevPrice * prevPrice * dt;
  if (prev === null) return ceilDiv(squared * WAD, scale);
  // λ·v/1e18 + (1e18 − λ)·r²… over the common denominator 1e18·prev²·Δt.
  const numerator = lambda1e18 * prev * scale + (WAD - lambda1e18) * squared * WAD;
  return ceilDiv(numerator, WAD * scale);
}

/** σ = √v in 1e18 (√(v·1e18)), rounded up. */
export function sqrtWad(variance: bigint): bigint {
  return sqrt(u256(variance * WAD, 'variance·1e18'), Rounding.Up);
}

function ceilDiv(n: bigint, d: bigint): bigint {
  return (n + d - 1n) / d;
}
