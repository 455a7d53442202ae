// Exact, allocation-free representation of a 1e18 fixed-point bigint as two float64 numbers
// (pure; used by the liquidation PositionIndex, docs/liquidation-index.md).
//
// For |x| < 2^100, write x = f + r where f = Number(x) (round to nearest, an integer) and
// r = x − f, which satisfies |r| ≤ ulp(f)/2 ≤ 2^46, so r is exactly a float64 too. Because
// Number(·) is monotone, comparing (f, r) lexicographically is exactly comparing x:
// f1 < f2 implies x1 < x2, and f1 = f2 leaves r to decide. No bucket, no approximation.

/** Magnitude bound of the exact split: 2^100 (≈ 1.27e30, i.e. a price of 1.27e12 at 1e18). */
export const SPLIT_LIMIT = 1n << 100n;
const LIMIT_F = 2 ** 100;

/** The split of the last `splitExact`/`splitClamped` call (scratch, overwritten per call). */
export const splitOut = { f: 0, r: 0 };

/** Splits x into splitOut; false (splitOut untouched) when |x| ≥ 2^100. */
export function splitExact(x: bigint): boolean {
  if (x >= SPLIT_LIMIT || x <= -SPLIT_LIMIT) return false;
  const f = Number(x);
  splitOut.f = f;
  splitOut.r = Number(x - BigInt(f));
  return true;
}

/**
 * Splits a query price, clamping |p| ≥ 2^100 to ±2^100: against any value with |x| < 2^100 the
 * clamped price compares exactly as p does (x < 2^100 ≤ p, and x > −2^100 ≥ p).
 */
export function splitClamped(p: bigint): void {
  if (splitExact(p)) return;
  splitOut.f = p > 0n ? LIMIT_F : -LIMIT_F;
  splitOut.r = 0;
}
