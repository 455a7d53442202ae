// The isolated margin maths (pure, 1e18 fixed point, rounding against the trader): docs/margin.md.
export { MAX_INT256, MAX_UINT256, MIN_INT256, Rounding, WAD, mulDiv } from './fixedPoint.js';
export { CollateralKind, Side, type Collateral, type IsolatedAccount, type MarginRates, type Position } from './types.js';
export { collateralValue, equity, notional, pnl } from './equity.js';
export { freeCollateral, initialMargin, isLiquidatable, maintenanceMargin } from './margin.js';
export { liquidationPrice } from './liquidationPrice.js';
export { liquidationPlan, type LiquidationPlan } from './liquidationPlan.js';
