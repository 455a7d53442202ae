// The engine's RisklessQuote rule in TypeScript (EngineOptions._cannotLose and the defined-risk
// maximum loss of 0): a strategy that pays at least its premium at every expiry price is money out
// of the settlement pool for nothing. The market maker never quotes one; the CLI refuses one.
import { payoff, type OptionLeg } from '../margin/options.js';

/**
 * Whether the strategy can never lose at `premium`: its calls are covered (net call size ≥ 0, so
 * its payoff is least at a breakpoint, {0} ∪ strikes) and it pays at least the premium at each.
 * With uncovered calls it always can lose as the price rises.
 */
export function cannotLose(legs: readonly OptionLeg[], premium: bigint): boolean {
  const netCalls = legs.reduce((n, l) => (l.isCall ? n + (l.isLong ? l.size : -l.size) : n), 0n);
  if (netCalls < 0n) return false;
  return [0n, ...legs.map((l) => l.strike)].every((b) => premium <= payoff(legs, b));
}
