// How a breached account is liquidated at a price (docs/liquidation.md), the twin of
// MarginMath.liquidationPlan: partial when a close of x < q restores the maintenance margin of what
// stays open after the penalty, with 1 wei to spare (the smallest such x), otherwise the whole position with a penalty
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
    // The smallest x whose close (PnL realized, penalty charged) leaves equity above the margin of
    // what stays open with 1 wei to spare (the PnL split in two rounds apart by up to 1 wei),
    // searched in a window around the bound as wide as a wei of rounding moves it.
    const mm = maintenanceMargin(account.position, mmr, price);
    const shortfall = eq >= mm ? 0n : mm - eq;
    const perWei = price * (mmr - penaltyRate);
    const bound = mulDiv(shortfall, WAD2, perWei, Rounding.Up);
    const window = mulDiv(4n, WAD2, perWei, Rounding.Up) + 4n;
    const restores = (x: bigint) =>
      eq - i256(mulDiv(x * price, penaltyRate, WAD2, Rounding.Up), 'penalty') - 1n >= maintenanceMargin({ ...account.position, size: q - x }, mmr, price);
    let lo = bound > window ? bound - window : 0n;
    let hi = bound + window < q - 1n ? bound + window : q - 1n;
    if (lo <= hi && restores(hi)) {
      while (lo < hi) {
        const mid = (lo + hi) / 2n;
        if (restores(mid)) hi = mid;
        else lo = mid + 1n;
      }
      return { closeSize: lo, penalty: mulDiv(lo * price, penaltyRate, WAD2, Rounding.Up), full: false, deficit: 0n };
    }
  }
  const whole = mulDiv(q * price, penaltyRate, WAD2, Rounding.Up);
  const left = eq > 0n ? eq : 0n;
  return { closeSize: q, penalty: whole < left ? whole : left, full: true, deficit: eq < 0n ? -eq : 0n };
}
