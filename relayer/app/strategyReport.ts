// An options strategy as the trader sees it, in `isorelay option` and `isorelay positions`: its
// kind, legs, premium or credit, maximum loss or scenario margin, breakevens, delta at the oracle
// price, expiry and what happens then. Pure: the numbers come from relayer/margin.
import { describeStrategy, intrinsicDelta, payoff, type OptionLeg, type StrategyKind } from '../margin/index.js';
import { formatLeg, formatUsd, formatWad } from '../options/legs.js';
import { expiryOutlook, type Extreme, type Outlook, type PriceRange } from '../options/outlook.js';

export interface StrategyView {
  market: string;
  kind: StrategyKind;
  definedRisk: boolean;
  legs: readonly OptionLeg[];
  /** USD 1e18: > 0 the trader pays (a debit), < 0 receives (a credit). */
  premium: bigint;
  /** The engine's requirement: the maximum loss (defined risk) or a scenario margin (uncovered). */
  requirement: bigint;
  /** What the requirement is: the maximum loss, the initial scenario margin (at open) or the maintenance one (open strategies). */
  requirementKind: 'max loss' | 'initial scenario margin' | 'maintenance scenario margin';
  breakevens: bigint[];
  /** The oracle price the delta is taken at, and the delta (asset units 1e18); null without a price. */
  spot: bigint | null;
  delta: bigint | null;
  /** Unix seconds, and the time it is now (the chain's). */
  expiry: bigint;
  now: bigint;
  /** Seconds after expiry within which the settlement price must be attested. */
  settleWindow: bigint;
  outlook: Outlook;
}

export function strategyView(o: {
  market: string; legs: readonly OptionLeg[]; premium: bigint; requirement: bigint; definedRisk: boolean; opening: boolean;
  spot: bigint | null; expiry: bigint; now: bigint; settleWindow: bigint;
}): StrategyView {
  const d = describeStrategy(o.legs, o.premium);
  return {
    market: o.market, kind: d.kind, definedRisk: o.definedRisk, legs: o.legs, premium: o.premium, requirement: o.requirement,
    requirementKind: o.definedRisk ? 'max loss' : o.opening ? 'initial scenario margin' : 'maintenance scenario margin',
    breakevens: d.breakevens, spot: o.spot, delta: o.spot === null ? null : intrinsicDelta(o.legs, o.spot),
    expiry: o.expiry, now: o.now, settleWindow: o.settleWindow, outlook: expiryOutlook(o.legs, o.premium),
  };
}

/** "1 h 5 min", "42 s", "3 d 4 h". */
export function duration(seconds: bigint): string {
  const s = Number(seconds < 0n ? -seconds : seconds);
  const parts: [number, string][] = [[Math.floor(s / 86_400), 'd'], [Math.floor((s % 86_400) / 3_600), 'h'], [Math.floor((s % 3_600) / 60), 'min'], [s % 60, 's']];
  const shown = parts.filter(([n]) => n > 0).slice(0, 2);
  return shown.length === 0 ? '0 s' : shown.map(([n, u]) => `${n} ${u}`).join(' ');
}

const CENT = 10n ** 16n;

/**
 * Breakevens to the cent, each rounded into the profitable range beside it (as describeStrategy
 * rounds them to the wei): up when the strategy profits just above it, down otherwise.
 */
export function breakevenText(v: Pick<StrategyView, 'legs' | 'premium' | 'breakevens'>): string {
  if (v.breakevens.length === 0) return 'none';
  return v.breakevens
    .map((b) => {
      const profitAbove = v.premium - payoff(v.legs, b + 1n) < 0n;
      const cents = b / CENT + (profitAbove && b % CENT !== 0n ? 1n : 0n);
      return formatWad(cents * CENT);
    })
    .join(' and ');
}

const unixDate = (t: bigint) => new Date(Number(t) * 1000).toISOString().replace('.000Z', 'Z').replace('T', ' ');
const price = (x: bigint) => formatWad(x);

/** "a credit of 160.00 USD" / "a debit of 80.00 USD". */
export function premiumText(premium: bigint): string {
  return premium < 0n ? `a credit of ${formatUsd(-premium)} USD` : `a debit of ${formatUsd(premium)} USD`;
}

function rangeText(r: PriceRange): string {
  if (r.from === null && r.to === null) return 'at any price';
  if (r.from === null) return r.to === 0n ? 'at 0' : `at or below ${price(r.to as bigint)}`;
  if (r.to === null) return `at or above ${price(r.from)}`;
  return r.from === r.to ? `at ${price(r.from)}` : `between ${price(r.from)} and ${price(r.to)}`;
}

const ranges = (e: Extreme) => e.ranges.map(rangeText).join(' or ');

/** "between 2,800 and 3,200 you keep 160.00 USD; worst case −240.00 USD (at or below 2,600 or at or above 3,400)". */
export function outcomeText(v: StrategyView): string {
  const { best, worst } = v.outlook;
  let bestText: string;
  if (best.amount === null) bestText = `${ranges(best)} your gain grows with the price`;
  else if (best.amount > 0n) bestText = `${ranges(best)} you ${v.premium < 0n && best.amount === -v.premium ? 'keep' : 'make'} ${formatUsd(best.amount)} USD`;
  else bestText = `at best (${ranges(best)}) you lose ${formatUsd(-best.amount)} USD`;
  const worstText = worst.amount === null
    ? `${ranges(worst)} the loss grows with the price, without limit`
    : `worst case ${formatUsd(worst.amount)} USD (${ranges(worst)})`;
  return `${bestText}; ${worstText}`;
}

/** The strategy in indented lines, for a terminal. */
export function formatStrategy(v: StrategyView, indent = '  '): string {
  const expiresIn = v.expiry > v.now ? `in ${duration(v.expiry - v.now)}` : `${duration(v.now - v.expiry)} ago`;
  const lines = [
    `${v.kind} on ${v.market}, ${v.definedRisk ? 'defined risk' : 'uncovered (scenario margin; liquidated below maintenance)'}`,
    `legs: ${v.legs.map(formatLeg).join(' · ')}`,
    `premium: ${premiumText(v.premium)}`,
    `${v.requirementKind}: ${formatUsd(v.requirement)} USD`,
    `breakevens: ${breakevenText(v)}`,
    `delta: ${v.delta === null || v.spot === null ? '— (no oracle price)' : `${formatWad(v.delta)} at ${price(v.spot)}`}`,
    `expiry: ${unixDate(v.expiry)} (${expiresIn})`,
    `at expiry: settles at the price attested within ${duration(v.settleWindow)} of expiry (the worst for you in the attested range); ${outcomeText(v)}`,
  ];
  return lines.map((l) => `${indent}${l}`).join('\n');
}

/** The strategy as JSON (bigints as decimal strings by the caller's toJson). */
export function strategyJson(v: StrategyView): Record<string, unknown> {
  return {
    market: v.market, kind: v.kind, definedRisk: v.definedRisk,
    legs: v.legs.map((l) => ({ side: l.isLong ? 'long' : 'short', type: l.isCall ? 'call' : 'put', strike: l.strike, size: l.size })),
    premium: v.premium, requirement: v.requirement, requirementKind: v.requirementKind, maxLoss: v.definedRisk ? v.requirement : null,
    breakevens: v.breakevens, spot: v.spot, delta: v.delta, expiry: v.expiry, secondsLeft: v.expiry > v.now ? v.expiry - v.now : 0n,
    settleWindow: v.settleWindow, atExpiry: { text: outcomeText(v), best: v.outlook.best, worst: v.outlook.worst },
  };
}
