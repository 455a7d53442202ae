// Option legs as a trader writes them on the command line (`long:call:3200:2`) and as screens show
// them (`long call 3,200 × 2`), and USD amounts for screens. Parsing is the boundary: what it returns
// passes OptionsMath's checks and the engine's bounds (1 to 8 legs, strike and size in (0, 1e36]).
import { IsorelayError, ErrorCode } from '../errors/base.js';
import { MAX_LEGS, type OptionLeg } from '../margin/options.js';

const WAD = 10n ** 18n;
/** The engine's largest strike and size (MAX_OPTION_AMOUNT): 1e18 USD per unit, 1e18 units. */
export const MAX_OPTION_AMOUNT = 10n ** 36n;

const usage = (message: string, guidance: string[] = []) => new IsorelayError(ErrorCode.USAGE, message, { guidance });

const LEG_SYNTAX = 'a leg is side:kind:strike:size, e.g. long:call:3200:2 or short:put:2800:0.5 (side long or short, kind call or put, strike in USD, size in units of the asset)';

/** A positive decimal with at most 18 decimals ("3200", "0.5") as a 1e18 integer, or null. */
export function parseWad(text: string): bigint | null {
  const m = /^(\d+)(?:\.(\d{1,18}))?$/.exec(text);
  if (m === null) return null;
  return BigInt(m[1] as string) * WAD + BigInt((m[2] ?? '').padEnd(18, '0') || '0');
}

/** One `--leg side:kind:strike:size`. */
export function parseLeg(text: string): OptionLeg {
  const where = `--leg ${text}`;
  const parts = text.trim().toLowerCase().split(':');
  if (parts.length !== 4) throw usage(`${where}: ${LEG_SYNTAX}`);
  const [side, kind, strikeText, sizeText] = parts as [string, string, string, string];
  if (side !== 'long' && side !== 'short') throw usage(`${where}: the side is "${side}", it must be long (you buy the option) or short (you sell it)`);
  if (kind !== 'call' && kind !== 'put') throw usage(`${where}: the kind is "${kind}", it must be call or put`);
  const strike = parseWad(strikeText.replace(/_/g, ''));
  if (strike === null) throw usage(`${where}: the strike "${strikeText}" is not a number of USD like 3200 or 2999.5 (at most 18 decimals)`);
  if (strike === 0n) throw usage(`${where}: the strike is 0; a strike is a price above 0`);
  if (strike > MAX_OPTION_AMOUNT) throw usage(`${where}: the strike is above the engine's largest, 1e18 USD`);
  const size = parseWad(sizeText.replace(/_/g, ''));
  if (size === null) throw usage(`${where}: the size "${sizeText}" is not a number of units like 2 or 0.5 (at most 18 decimals)`);
  if (size === 0n) throw usage(`${where}: the size is 0; a leg trades at least one unit's smallest fraction`);
  if (size > MAX_OPTION_AMOUNT) throw usage(`${where}: the size is above the engine's largest, 1e18 units`);
  return { isCall: kind === 'call', isLong: side === 'long', strike, size };
}

/** Every `--leg` of a strategy: 1 to 8 of them. */
export function parseLegs(texts: readonly string[]): OptionLeg[] {
  if (texts.length === 0) throw usage(`a strategy needs at least one --leg: ${LEG_SYNTAX}`);
  if (texts.length > MAX_LEGS) throw usage(`${texts.length} legs: a strategy has at most ${MAX_LEGS}`, ['Split it into strategies on separate positions.']);
  return texts.map(parseLeg);
}

/** A 1e18 amount with thousands separated and no trailing zeros: 3200e18 → "3,200", 5e17 → "0.5". */
export function formatWad(x: bigint): string {
  const negative = x < 0n;
  const abs = negative ? -x : x;
  const whole = (abs / WAD).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = (abs % WAD).toString().padStart(18, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

/** USD 1e18 rounded half away from zero to `digits` decimals, thousands separated: "1,234.57". */
export function formatUsd(x: bigint, digits = 2): string {
  const negative = x < 0n;
  const unit = 10n ** BigInt(18 - digits);
  const rounded = ((negative ? -x : x) + unit / 2n) / unit;
  const scale = 10n ** BigInt(digits);
  const whole = (rounded / scale).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = digits === 0 ? '' : `.${(rounded % scale).toString().padStart(digits, '0')}`;
  return `${negative && rounded !== 0n ? '−' : ''}${whole}${fraction}`;
}

/** "long call 3,200 × 2". */
export function formatLeg(leg: OptionLeg): string {
  return `${leg.isLong ? 'long' : 'short'} ${leg.isCall ? 'call' : 'put'} ${formatWad(leg.strike)} × ${formatWad(leg.size)}`;
}

/** The leg as `--leg` takes it: "long:call:3200:2". */
export function legArg(leg: OptionLeg): string {
  return `${leg.isLong ? 'long' : 'short'}:${leg.isCall ? 'call' : 'put'}:${formatWad(leg.strike).replace(/,/g, '')}:${formatWad(leg.size).replace(/,/g, '')}`;
}
