// Generates test/vectors/margin.json, the shared vectors of the isolated margin maths
// (docs/margin.md). Deliberately independent of relayer/margin and contracts/libraries/MarginMath.sol:
// every formula is evaluated in exact rational arithmetic on real-valued quantities (q units, E USD…)
// and only the final result is rounded to 1e18, per the rule the docs give for it.
// Run: npx tsx scripts/gen-margin-vectors.ts [--check]
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ONE, Q } from './rational.js';

export const marginVectorsPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'vectors', 'margin.json');

export interface MarginVectorInput {
  side: 'long' | 'short';
  collateralKind: 'stable' | 'asset';
  collateral: string;
  size: string;
  entryPrice: string;
  markPrice: string;
  imr: string;
  mmr: string;
  fees: string;
}

export interface MarginVectorExpected {
  notional: string;
  pnl: string;
  collateralValue: string;
  equity: string;
  initialMargin: string;
  /** collateral value + min(pnl, 0) − fees − initial margin, all at the mark price. */
  freeCollateral: string;
  maintenanceMargin: string;
  liquidatable: boolean;
  /** null: no price on the losing side liquidates the position. */
  liquidationPrice: string | null;
}

export interface MarginVector {
  name: string;
  input: MarginVectorInput;
  expected: MarginVectorExpected;
}

export interface MulDivVector {
  name: string;
  x: string;
  y: string;
  d: string;
  rounding: 'down' | 'up';
  expected: string;
}

export interface LiquidationVector {
  name: string;
  input: { side: 'long' | 'short'; collateral: string; size: string; entryPrice: string; fees: string; mmr: string; penaltyRate: string; price: string };
  /** deficit: what a whole liquidation leaves below zero (−equity at P, else 0): bad debt unless covered. */
  expected: { closeSize: string; penalty: string; full: boolean; deficit: string };
}

export interface MarginVectors {
  cases: MarginVector[];
  mulDiv: MulDivVector[];
  liquidation: LiquidationVector[];
}

const MAX256 = 2n ** 256n - 1n;


function reference(input: MarginVectorInput): MarginVectorExpected {
  const q = Q.wad(BigInt(input.size));
  const E = Q.wad(BigInt(input.entryPrice));
  const P = Q.wad(BigInt(input.markPrice));
  const c = Q.wad(BigInt(input.collateral));
  const imr = Q.wad(BigInt(input.imr));
  const mmr = Q.wad(BigInt(input.mmr));
  const fees = BigInt(input.fees);
  const f = Q.wad(fees);
  const one = new Q(1n);
  const long = input.side === 'long';
  const asset = input.collateralKind === 'asset';

  // Rules: gains, collateral and liquidation-price-of-a-short toward −∞; exposure, margins, losses
  // and liquidation-price-of-a-long toward +∞. PnL toward −∞ covers both gain and loss.
  const pnl = (long ? P.sub(E) : E.sub(P)).mul(q).wadFloor();
  const collateralValue = asset ? c.mul(P).wadFloor() : BigInt(input.collateral);
  const equity = collateralValue + pnl - fees;
  const maintenanceMargin = mmr.mul(q).mul(P).wadCeil();
  const initialMargin = imr.mul(q).mul(P).wadCeil();

  let liquidationPrice: string | null;
  if (long) {
    // C_value(P) + q(P − E) − f = mmr·q·P, solved for P.
    const exact = asset
      ? q.mul(E).add(f).div(c.add(q.mul(one.sub(mmr))))
      : q.mul(E).add(f).sub(c).div(q.mul(one.sub(mmr)));
    liquidationPrice = exact.sign() <= 0 ? null : exact.wadCeil().toString();
  } else {
    const den = asset ? q.mul(one.add(mmr)).sub(c) : q.mul(one.add(mmr));
    if (den.sign() <= 0) liquidationPrice = null;
    else {
      const exact = (asset ? q.mul(E).sub(f) : q.mul(E).add(c).sub(f)).div(den);
      liquidationPrice = (exact.sign() <= 0 ? 0n : exact.wadFloor()).toString();
    }
  }

  return {
    notional: q.mul(P).wadCeil().toString(),
    pnl: pnl.toString(),
    collateralValue: collateralValue.toString(),
    equity: equity.toString(),
    initialMargin: initialMargin.toString(),
    freeCollateral: (collateralValue + (pnl < 0n ? pnl : 0n) - fees - initialMargin).toString(),
    maintenanceMargin: maintenanceMargin.toString(),
    liquidatable: equity < maintenanceMargin,
    liquidationPrice,
  };
}

interface Case {
  name: string;
  side: 'long' | 'short';
  kind: 'stable' | 'asset';
  collateral: bigint;
  size: bigint;
  entry: bigint;
  /** A price, or 'liq' for the case's own reference liquidation price. */
  mark: bigint | 'liq';
  imr?: bigint;
  mmr?: bigint;
  fees?: bigint;
}

const e18 = (units: number | bigint): bigint => BigInt(units) * ONE;

function vector(c: Case): MarginVector {
  const base = {
    side: c.side,
    collateralKind: c.kind,
    collateral: c.collateral.toString(),
    size: c.size.toString(),
    entryPrice: c.entry.toString(),
    imr: (c.imr ?? ONE / 10n).toString(),
    mmr: (c.mmr ?? ONE / 20n).toString(),
    fees: (c.fees ?? 0n).toString(),
  };
  let markPrice = c.mark === 'liq' ? '0' : c.mark.toString();
  if (c.mark === 'liq') {
    const liq = reference({ ...base, markPrice: c.entry.toString() }).liquidationPrice;
    if (liq === null) throw new Error(`${c.name}: no liquidation price to sit on`);
    markPrice = liq;
  }
  const input: MarginVectorInput = { ...base, markPrice };
  return { name: `${c.side} ${c.kind}: ${c.name}`, input, expected: reference(input) };
}

/** The same scenarios for every side × collateral kind; collateral amounts are in that kind's unit. */
function scenarios(side: 'long' | 'short', kind: 'stable' | 'asset'): Case[] {
  const asset = kind === 'asset';
  const up = side === 'long' ? 1n : -1n;
  // 1 unit at 2,000 USD with 200 USD of collateral (stable) or 0.1 unit (asset).
  const std = { side, kind, size: e18(1), entry: e18(2000), collateral: asset ? ONE / 10n : e18(200) };
  const odd = {
    side,
    kind,
    size: 1_234_567_891_234_567_891n,
    entry: 3_333_333_333_333_333_333_333n,
    collateral: asset ? 98_765_432_109_876_543n : 777_777_777_777_777_777_777n,
  };
  return [
    { ...std, name: 'zero pnl at entry', mark: std.entry },
    { ...std, name: 'in profit', mark: std.entry + up * e18(150) },
    { ...std, name: 'small loss, healthy', mark: std.entry - up * e18(50) },
    { ...std, name: 'deep loss, liquidatable', mark: std.entry - up * e18(400) },
    { ...std, name: 'exactly at its liquidation price', mark: 'liq' },
    { ...std, name: 'with fees, at its liquidation price', fees: e18(37) + 123n, mark: 'liq' },
    { ...std, name: 'mmr 0', mmr: 0n, mark: std.entry - up * e18(190) },
    { ...std, name: 'mmr 0 at its liquidation price', mmr: 0n, mark: 'liq' },
    { ...odd, name: 'odd values, loss (every rounding bites)', mark: odd.entry - up * 77_777_777_777_777_777_777n, fees: 3n },
    { ...odd, name: 'odd values at its liquidation price', mark: 'liq', mmr: 33_333_333_333_333_333n },
    { ...std, name: 'tiny size (1 wei of the asset)', size: 1n, collateral: asset ? 1n : 1n, mark: std.entry - up * 7n },
    { ...std, name: 'tiny size (1000 wei) odd prices', size: 1000n, entry: 1_999_999_999_999_999_999n, mark: 1_000_000_000_000_000_001n, collateral: asset ? 3n : 5n },
    {
      ...std,
      name: 'huge size near 1e30',
      size: 999_999_999_999_999_999_999_999_999_999n,
      entry: e18(40_000) + 1n,
      mark: e18(40_000) - up * e18(1_999),
      collateral: asset ? e18(80_000_000_000) : e18(3_600_000_000_000_000),
    },
    {
      ...std,
      name: 'huge size near 1e30 at its liquidation price',
      size: 10n ** 30n - 7n,
      entry: e18(40_000) + 1n,
      mark: 'liq',
      collateral: asset ? e18(80_000_000_000) : e18(3_600_000_000_000_000),
    },
  ];
}

function buildCases(): MarginVector[] {
  const out: Case[] = [];
  for (const side of ['long', 'short'] as const) for (const kind of ['stable', 'asset'] as const) out.push(...scenarios(side, kind));
  const s = { size: e18(1), entry: e18(2000) };
  out.push(
    { ...s, name: 'collateral equal to the notional: none', side: 'long', kind: 'stable', collateral: e18(2000), mark: e18(1) },
    { ...s, name: 'collateral above the notional: none', side: 'long', kind: 'stable', collateral: e18(2500), mark: e18(100) },
    { ...s, name: 'collateral one wei short of the notional: tiny price', side: 'long', kind: 'stable', collateral: e18(2000) - 1n, mark: 1n },
    { ...s, name: 'fees push a covered long back into range', side: 'long', kind: 'stable', collateral: e18(2000), fees: e18(1), mark: e18(10) },
    { ...s, name: 'mark price 0', side: 'long', kind: 'stable', collateral: e18(2000), mark: 0n },
    { ...s, name: 'asset collateral equal to q(1 + mmr): none', side: 'short', kind: 'asset', collateral: e18(1) + ONE / 20n, mark: e18(5000) },
    { ...s, name: 'asset collateral above q(1 + mmr): none', side: 'short', kind: 'asset', collateral: e18(2), mark: e18(9000) },
    { ...s, name: 'asset collateral one wei below q(1 + mmr): huge price', side: 'short', kind: 'asset', collateral: e18(1) + ONE / 20n - 1n, mark: e18(3000) },
    { ...s, name: 'fees above the backing: price 0', side: 'short', kind: 'stable', collateral: e18(100), fees: e18(2100), mark: e18(1) },
    { ...s, name: 'fees above the entry notional: price 0', side: 'short', kind: 'asset', collateral: ONE / 2n, fees: e18(2001), mark: e18(1) },
    { ...s, name: 'mmr one wei below 100%', side: 'long', kind: 'stable', collateral: e18(100), mmr: ONE - 1n, imr: ONE, mark: e18(1990) },
    { ...s, name: 'imr and mmr 100% less one wei', side: 'short', kind: 'asset', collateral: ONE / 3n, mmr: ONE - 1n, imr: ONE, mark: e18(1500) },
    { ...s, name: 'zero entry price', side: 'long', kind: 'asset', collateral: ONE, entry: 0n, mark: e18(3) },
  );
  return out.map(vector);
}

function buildMulDiv(): MulDivVector[] {
  const v = (name: string, x: bigint, y: bigint, d: bigint, rounding: 'down' | 'up'): MulDivVector => {
    const exact = new Q(x * y, d);
    const expected = rounding === 'down' ? exact.floor() : exact.ceil();
    if (expected > MAX256) throw new Error(`${name}: result overflows`);
    return { name, x: x.toString(), y: y.toString(), d: d.toString(), rounding, expected: expected.toString() };
  };
  return [
    v('exact, down', 6n, 7n, 3n, 'down'),
    v('exact, up', 6n, 7n, 3n, 'up'),
    v('remainder, down', 7n, 7n, 3n, 'down'),
    v('remainder, up', 7n, 7n, 3n, 'up'),
    v('zero product, up', 0n, 5n, 3n, 'up'),
    v('one third of a wad, up', ONE, 1n, 3n, 'up'),
    v('512-bit product, down', MAX256, MAX256 - 1n, MAX256, 'down'),
    v('512-bit product, up', MAX256 - 1n, MAX256 - 2n, MAX256, 'up'),
    v('max result, down', MAX256, 1n, 1n, 'down'),
  ];
}

/**
 * The liquidation plan by its definition, found by binary search (not by the implementations'
 * closed form): the smallest x with eq − ⌈π·x·P⌉ − 1 ≥ ⌈mmr·(q − x)·P⌉, partial when x < q (the
 * 1 wei spares the PnL split in two, whose parts round apart by up to 1 wei).
 */
function liquidationReference(i: LiquidationVector['input']): LiquidationVector['expected'] {
  const [q, E, P, c, f, mmr, pr] = [i.size, i.entryPrice, i.price, i.collateral, i.fees, i.mmr, i.penaltyRate].map(BigInt) as [bigint, bigint, bigint, bigint, bigint, bigint, bigint];
  const pnl = (i.side === 'long' ? Q.wad(P).sub(Q.wad(E)) : Q.wad(E).sub(Q.wad(P))).mul(Q.wad(q)).wadFloor();
  const eq = c + pnl - f;
  const ceil36 = (x: bigint) => new Q(x, ONE * ONE).ceil();
  const penOf = (x: bigint) => ceil36(pr * x * P);
  const ok = (x: bigint) => eq - penOf(x) - 1n >= ceil36(mmr * (q - x) * P);
  if (eq > 0n && pr < mmr && P > 0n && ok(q - 1n)) {
    let [lo, hi] = [0n, q - 1n];
    while (lo < hi) {
      const mid = (lo + hi) / 2n;
      if (ok(mid)) hi = mid;
      else lo = mid + 1n;
    }
    return { closeSize: lo.toString(), penalty: penOf(lo).toString(), full: false, deficit: '0' };
  }
  const whole = penOf(q);
  const left = eq > 0n ? eq : 0n;
  return { closeSize: q.toString(), penalty: (whole < left ? whole : left).toString(), full: true, deficit: (eq < 0n ? -eq : 0n).toString() };
}

function buildLiquidation(): LiquidationVector[] {
  const v = (name: string, side: 'long' | 'short', collateral: bigint, size: bigint, entry: bigint, price: bigint, o: { fees?: bigint; mmr?: bigint; penaltyRate?: bigint } = {}): LiquidationVector => {
    const input = {
      side, collateral: collateral.toString(), size: size.toString(), entryPrice: entry.toString(), fees: (o.fees ?? 0n).toString(),
      mmr: (o.mmr ?? ONE / 20n).toString(), penaltyRate: (o.penaltyRate ?? ONE / 100n).toString(), price: price.toString(),
    };
    return { name, input, expected: liquidationReference(input) };
  };
  return [
    v('long just past maintenance: a small part closes', 'long', e18(1000), e18(3), e18(3000), e18(2800)),
    v('long further down: more closes', 'long', e18(1000), e18(3), e18(3000), e18(2760)),
    v('long far down: nearly all of it closes', 'long', e18(1000), e18(3), e18(3000), e18(2700)),
    v('long with almost no equity left: all of it, the penalty bounded by what is left', 'long', e18(1000), e18(3), e18(3000), e18(2668)),
    v('long underwater: all of it, no penalty (bad debt)', 'long', e18(1000), e18(3), e18(3000), e18(2600)),
    v('short just past maintenance', 'short', e18(1000), e18(3), e18(3000), e18(3200)),
    v('short underwater', 'short', e18(1000), e18(3), e18(3000), e18(3400)),
    v('odd values, with fees', 'long', 777_777_777_777_777_777_777n, 1_234_567_891_234_567_891n, 3_333_333_333_333_333_333_333n, 2_840_000_000_000_000_000_123n, { fees: e18(3) + 7n }),
    v('odd values, short, with fees', 'short', 777_777_777_777_777_777_777n, 1_234_567_891_234_567_891n, 3_333_333_333_333_333_333_333n, 3_780_000_000_000_000_000_001n, { fees: 123_456_789n }),
    v('penalty rate at the maintenance rate: all of it', 'long', e18(1000), e18(3), e18(3000), e18(2800), { penaltyRate: ONE / 20n }),
    v('no penalty', 'long', e18(1000), e18(3), e18(3000), e18(2800), { penaltyRate: 0n }),
    v('tiny position (1000 wei)', 'long', 140n, 1000n, e18(2), e18(1) + 3n),
    v('low price: 1000 units at 1 USD, at 0.925', 'long', e18(100), e18(1000), e18(1), 925n * ONE / 1000n, { mmr: 3n * ONE / 100n }),
    v('low price: short 1000 units at 0.5 USD, at 0.537', 'short', e18(50), e18(1000), ONE / 2n, 537n * ONE / 1000n, { mmr: 3n * ONE / 100n }),
    v('very low price: 1e6 units at 0.01 USD, at 0.0091', 'long', e18(1_000), e18(1_000_000), ONE / 100n, 91n * ONE / 10_000n, { mmr: 3n * ONE / 100n }),
    v('huge position near 1e30', 'long', e18(3_600_000_000_000_000), 10n ** 30n - 7n, e18(40_000) + 1n, e18(36_600)),
  ];
}

export function buildMarginVectors(): MarginVectors {
  return { cases: buildCases(), mulDiv: buildMulDiv(), liquidation: buildLiquidation() };
}

export function renderMarginVectors(vectors: MarginVectors): string {
  return JSON.stringify(vectors, null, 2) + '\n';
}

function main(): void {
  const rendered = renderMarginVectors(buildMarginVectors());
  if (process.argv.includes('--check')) {
    if (readFileSync(marginVectorsPath, 'utf8') !== rendered) {
      console.error(`${marginVectorsPath} is stale: run npx tsx scripts/gen-margin-vectors.ts`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(marginVectorsPath, rendered);
  console.log(`wrote ${marginVectorsPath}`);
}

const entry = process.argv[1];
if (entry !== undefined && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))) main();
