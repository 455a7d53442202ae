// Liquidation-candidate benchmark (DESIGN.md targets: at 1,000,000 indexed positions ≤ 1 ms per
// price tick, ≥ 1000× a naive scan with identical candidate sets, ≤ 200 bytes per position).
//
//   npx tsx bench/liquidationIndex.ts                        # timings; memory only approximate
//   node --expose-gc --import tsx bench/liquidationIndex.ts  # same, with an exact-ish memory figure
//
// Builds N random positions (half long, half short; liquidation prices spread around 3000e18:
// longs 0.5–50.5% below, shorts 0.5–50.5% above, denser far from the price, since positions near their
// liquidation price are the few that have not yet been liquidated), then walks the price through
// TICKS ticks within ±1.5% of 3000 and times PositionIndex.candidates(price) against a naive bigint
// scan over an array of {key, side, liqPrice}, in the same run, asserting identical candidate sets
// on every tick. A second phase applies engine events (upserts) between ticks.
// Env: BENCH_POSITIONS (1e6), BENCH_TICKS (200), BENCH_CHURN_TICKS (100), BENCH_UPDATES_PER_TICK (100).
import { PositionIndex, type PositionSide } from '../relayer/liquidation/positionIndex.js';
import { prng } from '../test/setup/prng.js';

const N = Number(process.env.BENCH_POSITIONS ?? 1_000_000);
const TICKS = Number(process.env.BENCH_TICKS ?? 200);
const CHURN_TICKS = Number(process.env.BENCH_CHURN_TICKS ?? 100);
const UPDATES_PER_TICK = Number(process.env.BENCH_UPDATES_PER_TICK ?? 100);
const WARMUP_TICKS = 10;
const E18 = 10n ** 18n;
const E12 = 10n ** 12n;
const gc = (globalThis as { gc?: () => void }).gc;


function randomKey(rnd: () => number): string {
  let s = '0x';
  for (let i = 0; i < 8; i++) s += ((rnd() * 4294967296) >>> 0).toString(16).padStart(8, '0');
  return s;
}

/** A liquidation price 0.5–50.5% away from 3000 on the losing side, with wei-level noise. */
function randomLiq(rnd: () => number, side: PositionSide): bigint {
  const away = 0.005 + 0.5 * Math.sqrt(rnd()); // sparse near the price, dense far from it
  const micro = BigInt(Math.round(3000 * away * 1e6)) * E12 + BigInt(Math.floor(rnd() * 1e12));
  return side === 'long' ? 3000n * E18 - micro : 3000n * E18 + micro;
}

type Naive = { key: string; side: PositionSide; liqPrice: bigint };
function naiveCandidates(all: Naive[], price: bigint): string[] {
  const out: string[] = [];
  for (const p of all) if (p.side === 'long' ? price <= p.liqPrice : price >= p.liqPrice) out.push(p.key);
  return out;
}

function generate(visit: (key: string, side: PositionSide, liq: bigint) => void): void {
  const rnd = prng(42);
  for (let i = 0; i < N; i++) {
    const side: PositionSide = i % 2 === 0 ? 'long' : 'short';
    visit(randomKey(rnd), side, randomLiq(rnd, side));
  }
}

function memory(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(b);
  return a.every((k) => s.has(k));
}

function pct(xs: number[], q: number): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

/** Ticks: a bounded random walk of ±0.15% steps within ±1.5% of 3000, wei noise included. */
function priceWalk(seed: number, n: number): bigint[] {
  const rnd = prng(seed);
  let x = 1;
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    x += (rnd() - 0.5) * 0.003;
    if (x > 1.015) x = 2.03 - x;
    if (x < 0.985) x = 1.97 - x;
    out.push(BigInt(Math.round(3000 * x * 1e6)) * E12 + BigInt(Math.floor(rnd() * 1e12)));
  }
  return out;
}

const ns = (t0: bigint): number => Number(process.hrtime.bigint() - t0);
const us = (nsv: number): string => (nsv / 1000).toFixed(1);

function runTicks(idx: PositionIndex, all: Naive[], prices: bigint[], between?: (t: number) => void): { idx: number[]; naive: number[]; k: number[] } {
  const r = { idx: [] as number[], naive: [] as number[], k: [] as number[] };
  prices.forEach((p, t) => {
    between?.(t);
    let t0 = process.hrtime.bigint();
    const got = idx.candidates(p);
    const ti = ns(t0);
    t0 = process.hrtime.bigint();
    const want = naiveCandidates(all, p);
    const tn = ns(t0);
    if (!sameSet(got, want)) throw new Error(`tick ${t} price ${p}: index ${got.length} candidates, naive ${want.length}: sets differ`);
    if (t >= WARMUP_TICKS || prices.length <= WARMUP_TICKS) {
      r.idx.push(ti);
      r.naive.push(tn);
      r.k.push(got.length);
    }
  });
  return r;
}

function main(): void {
  console.log(`liquidation index benchmark: ${N.toLocaleString('en')} positions, ${TICKS} ticks (+${WARMUP_TICKS} warm-up), node ${process.version}, gc ${gc ? 'exposed' : 'NOT exposed (memory approximate; run with node --expose-gc --import tsx)'}`);

  // Index first, alone, so its memory delta is its own (keys and bigints are transient here).
  const before = memory();
  let t0 = process.hrtime.bigint();
  const idx = new PositionIndex();
  generate((key, side, liq) => idx.upsert(key, side, liq));
  const tInsert = ns(t0);
  t0 = process.hrtime.bigint();
  idx.compact();
  const tSort = ns(t0);
  const idxBytes = (memory() - before) / N;
  console.log(`build: ${N.toLocaleString('en')} upserts ${(tInsert / 1e6).toFixed(0)} ms (${(tInsert / N).toFixed(0)} ns each), sort-once ${(tSort / 1e6).toFixed(0)} ms; size ${idx.size}`);

  const beforeNaive = memory();
  const all: Naive[] = [];
  generate((key, side, liqPrice) => all.push({ key, side, liqPrice }));
  const naiveBytes = (memory() - beforeNaive) / N;

  // Warm-up (JIT) outside the measured ticks: many cheap index queries, a few naive scans.
  for (const p of priceWalk(3, 5000)) idx.candidates(p);
  for (const p of priceWalk(4, 3)) naiveCandidates(all, p);

  // Phase A: price ticks, no events in between.
  const a = runTicks(idx, all, priceWalk(7, TICKS + WARMUP_TICKS));
  const p50i = pct(a.idx, 0.5);
  const p99i = pct(a.idx, 0.99);
  const p50n = pct(a.naive, 0.5);
  const p99n = pct(a.naive, 0.99);
  const meanK = a.k.reduce((x, y) => x + y, 0) / a.k.length;
  console.log(`ticks: candidates per tick mean ${meanK.toFixed(1)}, max ${Math.max(...a.k)}; all ${a.k.length} measured candidate sets identical to the naive scan`);
  console.log(`index: p50 ${us(p50i)} µs, p99 ${us(p99i)} µs, max ${us(Math.max(...a.idx))} µs per tick`);
  console.log(`naive: p50 ${us(p50n)} µs, p99 ${us(p99n)} µs per tick`);
  console.log(`ratio naive/index: p50 ${(p50n / p50i).toFixed(0)}×, p99 ${(p99n / p99i).toFixed(0)}×`);
  console.log(`memory: index ${idxBytes.toFixed(1)} bytes/position, naive {key, side, liqPrice} array ${naiveBytes.toFixed(1)} bytes/position`);

  // Phase B: engine events between ticks (positions moved to new liquidation prices / sides).
  if (CHURN_TICKS > 0) {
    const rnd = prng(99);
    let tUp = 0;
    const b = runTicks(idx, all, priceWalk(8, CHURN_TICKS + WARMUP_TICKS), () => {
      for (let u = 0; u < UPDATES_PER_TICK; u++) {
        const pos = all[Math.floor(rnd() * all.length)] as Naive;
        pos.side = rnd() < 0.5 ? 'long' : 'short';
        pos.liqPrice = randomLiq(rnd, pos.side);
        const s = process.hrtime.bigint();
        idx.upsert(pos.key, pos.side, pos.liqPrice);
        tUp += ns(s);
      }
    });
    const updates = (CHURN_TICKS + WARMUP_TICKS) * UPDATES_PER_TICK;
    console.log(
      `with ${UPDATES_PER_TICK} upserts between ticks: index p50 ${us(pct(b.idx, 0.5))} µs, p99 ${us(pct(b.idx, 0.99))} µs, max ${us(Math.max(...b.idx))} µs per tick ` +
        `(includes merging pending upserts); naive p50 ${us(pct(b.naive, 0.5))} µs; upsert ${(tUp / updates / 1000).toFixed(2)} µs each; sets identical`,
    );
  }

  console.log(`index: ${us(p50i)} µs/tick (p50), naive: ${us(p50n)} µs/tick, ratio ${(p50n / p50i).toFixed(0)}×, memory ${idxBytes.toFixed(0)} bytes/position`);
}

main();
