// The inputs of the isolated margin maths: a position, its collateral and its market's rates,
// every amount and price an unsigned 1e18 fixed-point bigint (docs/margin.md).
import { MAX_UINT256, WAD } from './fixedPoint.js';

export const Side = { Long: 'long', Short: 'short' } as const;
export type Side = (typeof Side)[keyof typeof Side];

export const CollateralKind = { Stable: 'stable', Asset: 'asset' } as const;
export type CollateralKind = (typeof CollateralKind)[keyof typeof CollateralKind];

export interface Position {
  readonly side: Side;
  /** q: units of the traded asset, 1e18 per unit; > 0. */
  readonly size: bigint;
  /** E: USD per unit, 1e18. */
  readonly entryPrice: bigint;
}

/** Stable collateral is worth `amount` USD (1e18); asset collateral is `amount` units of the traded asset (1e18), worth amount·P. */
export interface Collateral {
  readonly kind: CollateralKind;
  readonly amount: bigint;
}

export interface MarginRates {
  /** Initial margin rate, 1e18 = 100%; ≤ 1e18. */
  readonly imr: bigint;
  /** Maintenance margin rate, 1e18 = 100%; < 1e18 (at 100% no liquidation price exists). */
  readonly mmr: bigint;
}

/** The whole state of one isolated position: what equity, margins and the liquidation price read. */
export interface IsolatedAccount {
  readonly position: Position;
  readonly collateral: Collateral;
  /** Fees accrued and not yet paid, USD 1e18; they reduce equity. */
  readonly fees: bigint;
}

function inUint256(value: bigint): boolean {
  return value >= 0n && value <= MAX_UINT256;
}

/** Throws a RangeError unless the account is in the maths' domain (the Solidity library's `require`s). */
export function assertAccount(account: IsolatedAccount): void {
  const { position, collateral, fees } = account;
  if (position.size <= 0n || !inUint256(position.size)) throw new RangeError(`size must be in (0, 2^256): ${position.size}`);
  if (!inUint256(position.entryPrice)) throw new RangeError(`entryPrice is outside uint256: ${position.entryPrice}`);
  if (!inUint256(collateral.amount)) throw new RangeError(`collateral is outside uint256: ${collateral.amount}`);
  if (!inUint256(fees)) throw new RangeError(`fees are outside uint256: ${fees}`);
}

export function assertRate(rate: bigint, name: string, max: bigint = WAD): void {
  if (rate < 0n || rate > max) throw new RangeError(`${name} must be in [0, ${max}]: ${rate}`);
}
