// Initial and maintenance margin and the liquidation check of one isolated position. Margins
// round UP: the trader must hold the fraction of a unit that an exact requirement would lack.
import { Rounding, WAD, i256, mulDiv, u256 } from './fixedPoint.js';
import { collateralValue, equity, pnl } from './equity.js';
import { assertRate, type IsolatedAccount, type MarginRates, type Position } from './types.js';

const WAD2 = WAD * WAD;

/** imr·q·P at today's price, one rounding UP (more margin required to open or withdraw). */
export function initialMargin(position: Position, imr: bigint, markPrice: bigint): bigint {
  assertRate(imr, 'imr');
  const exposure = u256(position.size * u256(markPrice, 'markPrice'), 'size·markPrice');
  return mulDiv(exposure, imr, WAD2, Rounding.Up);
}

/**
 * collateralValue(P) + min(pnl(P), 0) − fees − initialMargin(P): what may leave the account or
 * back more size. Unrealized profit never counts; an account without exposure is its collateral
 * less its fees.
 */
export function freeCollateral(account: IsolatedAccount, imr: bigint, markPrice: bigint): bigint {
  const value = i256(collateralValue(account.collateral, markPrice), 'collateral value') - i256(account.fees, 'fees');
  if (account.position.size === 0n) return value;
  const p = pnl(account.position, markPrice);
  return value + (p < 0n ? p : 0n) - i256(initialMargin(account.position, imr, markPrice), 'initial margin');
}

/** mmr·q·P, one rounding UP (more margin required to stay open). */
export function maintenanceMargin(position: Position, mmr: bigint, markPrice: bigint): bigint {
  assertRate(mmr, 'mmr');
  const exposure = u256(position.size * u256(markPrice, 'markPrice'), 'size·markPrice');
  return mulDiv(exposure, mmr, WAD2, Rounding.Up);
}

/** equity < maintenance margin at P. Both sides already lean against the trader. */
export function isLiquidatable(account: IsolatedAccount, rates: MarginRates, markPrice: bigint): boolean {
  const mm = i256(maintenanceMargin(account.position, rates.mmr, markPrice), 'maintenance margin');
  return equity(account, markPrice) < mm;
}
