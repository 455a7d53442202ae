// Notional, PnL, collateral value and equity of one isolated position at a mark price. Every
// rounding leaves the trader with less: gains and collateral round down, losses round up.
import { Rounding, WAD, i256, mulDiv, u256 } from './fixedPoint.js';
import { CollateralKind, Side, assertAccount, type Collateral, type IsolatedAccount, type Position } from './types.js';

/** q·P in USD, rounded UP: the exposure a margin is measured against is never understated. */
export function notional(size: bigint, price: bigint): bigint {
  return mulDiv(size, u256(price, 'price'), WAD, Rounding.Up);
}

/**
 * Signed PnL in USD: long q(P − E), short q(E − P). Rounded toward −∞: a gain rounds down and a
 * loss rounds up in magnitude, so the trader is never credited a fraction they did not earn.
 */
export function pnl(position: Position, markPrice: bigint): bigint {
  const { side, size, entryPrice } = position;
  u256(markPrice, 'markPrice');
  const gainsWhenUp = side === Side.Long;
  const up = markPrice >= entryPrice;
  const move = up ? markPrice - entryPrice : entryPrice - markPrice;
  const isGain = move !== 0n && up === gainsWhenUp;
  const magnitude = i256(mulDiv(size, move, WAD, isGain ? Rounding.Down : Rounding.Up), 'pnl');
  return isGain ? magnitude : -magnitude;
}

/** Collateral in USD at P: stable as is; asset a·P rounded DOWN (collateral is never overvalued). */
export function collateralValue(collateral: Collateral, markPrice: bigint): bigint {
  if (collateral.kind === CollateralKind.Stable) return collateral.amount;
  return mulDiv(collateral.amount, u256(markPrice, 'markPrice'), WAD, Rounding.Down);
}

/**
 * collateralValue(P) + pnl(P) − fees, signed. The sum of the components as each is reported
 * (each already rounded against the trader), so a screen showing them adds up to the equity.
 */
export function equity(account: IsolatedAccount, markPrice: bigint): bigint {
  assertAccount(account);
  const value = i256(collateralValue(account.collateral, markPrice), 'collateral value');
  const fees = i256(account.fees, 'fees');
  return i256(i256(value + pnl(account.position, markPrice), 'collateral value + pnl') - fees, 'equity');
}
