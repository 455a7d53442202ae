// The liquidation price of one isolated position: the mark price at which equity meets the
// maintenance margin, rounded so the trigger fires early (against the trader). docs/margin.md.
import { Rounding, WAD, mulDiv, u256 } from './fixedPoint.js';
import { CollateralKind, Side, assertAccount, assertRate, type IsolatedAccount } from './types.js';

/**
 * A long is liquidated when the mark is at or below the returned price, a short when it is at or
 * above it. `null` means no price on the losing side liquidates the position: a long whose
 * collateral covers qE + fees, or a short collateralised by at least q(1 + mmr) of the asset.
 *
 * Fees are part of equity, so they are part of the boundary: with fees f the stable-collateral
 * long solves C − f + q(P − E) = mmr·q·P. With f = 0 these are DESIGN.md's formulas.
 * Numerators and denominators below are in 1e36 (a product of two 1e18 numbers).
 */
export function liquidationPrice(account: IsolatedAccount, mmr: bigint): bigint | null {
  assertAccount(account);
  // At mmr = 100% a stable long's boundary does not depend on the price at all.
  assertRate(mmr, 'mmr', WAD - 1n);
  const { position, collateral } = account;
  const q = position.size;
  const entryNotional = u256(q * position.entryPrice, 'size·entryPrice');
  const fees = u256(account.fees * WAD, 'fees·1e18');
  const held = u256(collateral.amount * WAD, 'collateral·1e18');
  const asset = collateral.kind === CollateralKind.Asset;

  if (position.side === Side.Long) {
    // Stable: P = (qE + f − C) / (q(1 − mmr)); asset: P = (qE + f) / (a + q(1 − mmr)).
    const owed = u256(entryNotional + fees, 'size·entryPrice + fees');
    const covered = asset ? 0n : held;
    if (owed <= covered) return null;
    const keptPerPrice = u256(q * (WAD - mmr), 'size·(1 − mmr)');
    const den = asset ? u256(held + keptPerPrice, 'collateral + size·(1 − mmr)') : keptPerPrice;
    // UP: a higher trigger liquidates a falling long earlier, never later than the exact boundary.
    return mulDiv(owed - covered, WAD, den, Rounding.Up);
  }

  // Stable: P = (qE + C − f) / (q(1 + mmr)); asset: P = (qE − f) / (q(1 + mmr) − a).
  const exposurePerPrice = u256(q * (WAD + mmr), 'size·(1 + mmr)');
  if (asset && exposurePerPrice <= held) return null;
  const den = asset ? exposurePerPrice - held : exposurePerPrice;
  const backing = asset ? entryNotional : u256(entryNotional + held, 'size·entryPrice + collateral');
  // Fees at least the backing: equity is already below the margin at any positive price.
  if (backing <= fees) return 0n;
  // DOWN: a lower trigger liquidates a rising short earlier, never later than the exact boundary.
  return mulDiv(backing - fees, WAD, den, Rounding.Down);
}
