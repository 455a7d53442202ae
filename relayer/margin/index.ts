// The isolated margin maths (pure, 1e18 fixed point, rounding against the trader): docs/margin.md.
export { MAX_INT256, MAX_UINT256, MIN_INT256, Rounding, WAD, mulDiv, sqrt } from './fixedPoint.js';
export { CollateralKind, Side, type Collateral, type IsolatedAccount, type MarginRates, type Position } from './types.js';
export { collateralValue, equity, notional, pnl } from './equity.js';
export { freeCollateral, initialMargin, isLiquidatable, maintenanceMargin } from './margin.js';
export { liquidationPrice } from './liquidationPrice.js';
export { liquidationPlan, type LiquidationPlan } from './liquidationPlan.js';
export {
  INV_SQRT_2PI,
  MAX_LEGS,
  OptionsDomainError,
  OptionsRevert,
  YEAR,
  checkLegs,
  intrinsicDelta,
  isDefinedRisk,
  maxLoss,
  payoff,
  scaledRate,
  scenarioLoss,
  timeValueBound,
  value,
  worstPrice,
  type OptionLeg,
  type ScenarioParams,
} from './options.js';
export { DEFAULT_LAMBDA, ewmaVariance, sqrtWad } from './volatility.js';
export { StrategyKind, describeStrategy, type StrategyDescription } from './strategy.js';
