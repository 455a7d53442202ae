// Initial and maintenance margin and the liquidation check of one isolated position. Margins
// round UP: the trader must hold the fraction of a unit that an exact requirement would lack.
import { Rounding, WAD, i256, mulDiv, u256 } from './fixedPoint.js';
import { equity } from './equity.js';
import { assertRate, type IsolatedAccount, type MarginRates, type Position } from './types.js';

const WAD2 = WAD * WAD;

/** imr·q·E, one rounding UP (more margin required to open). */
export function initialMargin(position: Position, imr: bigint): bigint {
  assertRate(imr, 'imr');
  const exposure = u256(position.size * u256(position.entryPrice, 'entryPrice'), 'size·entryPrice');
  return mulDiv(exposure, imr, WAD2, Rounding.Up);
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
