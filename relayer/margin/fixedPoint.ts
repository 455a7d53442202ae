// 1e18 fixed point for the margin maths: mulDiv with an explicit rounding direction, and the
// uint256/int256 range checks that make the TypeScript refuse exactly where Solidity reverts.
export const WAD = 10n ** 18n;
export const MAX_UINT256 = 2n ** 256n - 1n;
export const MAX_INT256 = 2n ** 255n - 1n;
export const MIN_INT256 = -(2n ** 255n);

/** Which way a division rounds. Every call site says why its choice is against the trader. */
export const Rounding = { Down: 'down', Up: 'up' } as const;
export type Rounding = (typeof Rounding)[keyof typeof Rounding];

/**
 * `value` if it fits a uint256, else a RangeError. Used on every intermediate that Solidity
 * computes with checked uint256 arithmetic, so both sides accept the same inputs. Inputs are
 * validated at the relayer's boundary; reaching this throw is a programming error, not an
 * operational one, hence a plain RangeError rather than an IsorelayError code.
 */
export function u256(value: bigint, what: string): bigint {
  if (value < 0n || value > MAX_UINT256) throw new RangeError(`${what} is outside uint256: ${value}`);
  return value;
}

/** `value` if it fits an int256 (Solidity's SafeCast.toInt256 and checked int arithmetic), else a RangeError. */
export function i256(value: bigint, what: string): bigint {
  if (value < MIN_INT256 || value > MAX_INT256) throw new RangeError(`${what} is outside int256: ${value}`);
  return value;
}

/**
 * x·y/d rounded as asked, for uint256 x, y and d > 0, with the product exact (Solidity uses a
 * 512-bit product, so only the result must fit 256 bits).
 */
export function mulDiv(x: bigint, y: bigint, d: bigint, rounding: Rounding): bigint {
  u256(x, 'mulDiv x');
  u256(y, 'mulDiv y');
  if (u256(d, 'mulDiv denominator') === 0n) throw new RangeError('mulDiv by zero');
  const product = x * y;
  const quotient = product / d;
  const rounded = rounding === Rounding.Up && product % d !== 0n ? quotient + 1n : quotient;
  return u256(rounded, 'mulDiv result');
}

/** ⌊√x⌋ or ⌈√x⌉ for a uint256 x, as OpenZeppelin's Math.sqrt(x, rounding). */
export function sqrt(x: bigint, rounding: Rounding): bigint {
  u256(x, 'sqrt x');
  if (x < 2n) return x;
  // Newton's iteration from above converges to ⌊√x⌋ without overshooting below it.
  let r = 1n << BigInt(Math.ceil(x.toString(2).length / 2));
  for (;;) {
    const next = (r + x / r) >> 1n;
    if (next >= r) break;
    r = next;
  }
  return rounding === Rounding.Up && r * r < x ? r + 1n : r;
}
