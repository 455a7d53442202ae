// How a breached account is liquidated at a price (docs/liquidation.md), the twin of
// MarginMath.liquidationPlan: partial when a close of x < q restores the maintenance margin of what
// stays open after the penalty (the smallest such x), otherwise the whole position with a penalty
// bounded by what equity is left. Every rounding against the trader.
import { equity } from './equity.js';
import { Rounding, WAD, i256, mulDiv } from './fixedPoint.js';
import { maintenanceMargin } from './margin.js';
import type { IsolatedAccount } from './types.js';

const WAD2 = WAD * WAD;

export interface LiquidationPlan {
  /** Asset units closed (the whole size when full). */
  closeSize: bigint;
  /** USD 1e18 charged: split between the keeper and the insurance fund. */
  penalty: bigint;
  full: boolean;
  /** What a whole liquidation leaves below zero (−equity at the price, else 0): bad debt unless covered. */
  deficit: bigint;
}

export function liquidationPlan(account: IsolatedAccount, mmr: bigint, penaltyRate: bigint, price: bigint): LiquidationPlan {
  const eq = equity(account, price);
  const q = account.position.size;
  if (eq > 0n && penaltyRate < mmr && price > 0n) {
    const mm = maintenanceMargin(account.position, mmr, price);
    const shortfall = eq >= mm ? 0n : mm - eq;
    const bound = mulDiv(shortfall, WAD2, price * (mmr - penaltyRate), Rounding.Up);
    // The bound is exact before rounding; the roundings move the smallest x by a wei or two either way.
    let x = bound > 2n ? bound - 2n : 0n;
    for (let i = 0; i < 5 && x < q; i++) {
      const penalty = mulDiv(x * price, penaltyRate, WAD2, Rounding.Up);
      const left = maintenanceMargin({ ...account.position, size: q - x }, mmr, price);
      if (eq - i256(penalty, 'penalty') >= left) return { closeSize: x, penalty, full: false, deficit: 0n };
      x++;
    }
  }
  const whole = mulDiv(q * price, penaltyRate, WAD2, Rounding.Up);
  const left = eq > 0n ? eq : 0n;
  return { closeSize: q, penalty: whole < left ? whole : left, full: true, deficit: eq < 0n ? -eq : 0n };
}
