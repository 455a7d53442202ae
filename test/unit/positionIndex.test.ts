// The keeper's liquidation index (relayer/liquidation/positionIndex.ts): a long is a candidate
// when price ≤ its liquidation price, a short when price ≥ it; candidates are exact and equal a
// naive bigint scan after any sequence of upserts and removes (fast-check).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PositionIndex, type PositionSide } from '../../relayer/liquidation/positionIndex.js';
import { SPLIT_LIMIT } from '../../relayer/liquidation/exactPrice.js';

const E18 = 10n ** 18n;
const key = (n: number): string => '0x' + n.toString(16).padStart(64, '0');
const sorted = (xs: string[]): string[] => [...xs].sort();

type Entry = { side: PositionSide; liq: bigint };
function naive(model: Map<string, Entry>, price: bigint): string[] {
  const out: string[] = [];
  for (const [k, e] of model) if (e.side === 'long' ? price <= e.liq : price >= e.liq) out.push(k);
  return out;
}

describe('PositionIndex', () => {
  it('a long at exactly its liquidation price is a candidate, one wei above is not', () => {
    const idx = new PositionIndex();
    idx.upsert(key(1), 'long', 2500n * E18 + 7n);
    assert.deepEqual(idx.candidates(2500n * E18 + 7n), [key(1)]);
    assert.deepEqual(idx.candidates(2500n * E18 + 8n), []);
    assert.deepEqual(idx.candidates(1n), [key(1)]);
  });

  it('a short at exactly its liquidation price is a candidate, one wei below is not', () => {
    const idx = new PositionIndex();
    idx.upsert(key(2), 'short', 3500n * E18 + 1n);
    assert.deepEqual(idx.candidates(3500n * E18 + 1n), [key(2)]);
    assert.deepEqual(idx.candidates(3500n * E18), []);
    assert.deepEqual(idx.candidates(10n ** 40n), [key(2)]);
  });

  it('distinguishes liquidation prices one wei apart where float64 cannot', () => {
    const idx = new PositionIndex();
    const base = 3000n * E18; // 3e21 > 2^53: neighbouring weis share a float64
    for (let d = 0; d < 8; d++) idx.upsert(key(10 + d), d % 2 ? 'short' : 'long', base + BigInt(d));
    idx.compact();
    for (let d = -1; d < 9; d++) {
      const p = base + BigInt(d);
      const want = [];
      for (let e = 0; e < 8; e++) if (e % 2 ? p >= base + BigInt(e) : p <= base + BigInt(e)) want.push(key(10 + e));
      assert.deepEqual(sorted(idx.candidates(p)), sorted(want), `price base+${d}`);
    }
  });

  it('upsert moves a position (price and side) without duplicating it', () => {
    const idx = new PositionIndex();
    idx.upsert(key(3), 'long', 2000n * E18);
    idx.compact();
    idx.upsert(key(3), 'long', 2900n * E18);
    assert.equal(idx.size, 1);
    assert.deepEqual(idx.candidates(2500n * E18), [key(3)]);
    assert.deepEqual(idx.candidates(2950n * E18), []);
    idx.upsert(key(3), 'short', 2900n * E18);
    assert.equal(idx.size, 1);
    assert.deepEqual(idx.candidates(2500n * E18), []);
    assert.deepEqual(idx.candidates(2950n * E18), [key(3)]);
  });

  it('remove forgets a position; removing an unknown key is a no-op', () => {
    const idx = new PositionIndex();
    idx.upsert(key(4), 'short', 100n * E18);
    idx.upsert(key(5), 'short', 100n * E18);
    assert.equal(idx.remove(key(4)), true);
    assert.equal(idx.remove(key(4)), false);
    assert.equal(idx.size, 1);
    assert.equal(idx.has(key(4)), false);
    assert.deepEqual(idx.candidates(200n * E18), [key(5)]);
  });

  it('a null liquidation price removes the position (never liquidatable)', () => {
    const idx = new PositionIndex();
    idx.upsert(key(6), 'long', 1000n * E18);
    idx.upsert(key(6), 'long', null);
    assert.equal(idx.size, 0);
    assert.deepEqual(idx.candidates(1n), []);
    idx.upsert(key(7), 'short', null); // null for an unknown key: nothing to do
    assert.equal(idx.size, 0);
  });

  it('keeps keys as given: 0x-prefixed, bare and non-canonical strings', () => {
    const idx = new PositionIndex();
    const bare = 'ab'.repeat(32);
    const upper = '0x' + 'AB'.repeat(32);
    idx.upsert('0x' + bare, 'long', 5n);
    idx.upsert(bare, 'long', 5n);
    idx.upsert(upper, 'long', 5n);
    idx.upsert('position-1', 'long', 5n);
    assert.equal(idx.size, 4);
    assert.deepEqual(sorted(idx.candidates(5n)), sorted(['0x' + bare, bare, upper, 'position-1']));
    idx.remove(bare);
    assert.deepEqual(sorted(idx.candidates(5n)), sorted(['0x' + bare, upper, 'position-1']));
  });

  it('handles liquidation prices beyond the float64 split range and non-positive ones exactly', () => {
    const idx = new PositionIndex();
    idx.upsert(key(20), 'long', SPLIT_LIMIT + 1n);
    idx.upsert(key(21), 'short', SPLIT_LIMIT - 1n);
    idx.upsert(key(22), 'long', 0n);
    idx.upsert(key(23), 'short', -5n);
    assert.deepEqual(sorted(idx.candidates(SPLIT_LIMIT - 2n)), sorted([key(20), key(23)]));
    assert.deepEqual(sorted(idx.candidates(SPLIT_LIMIT + 1n)), sorted([key(20), key(21), key(23)]));
    assert.deepEqual(sorted(idx.candidates(SPLIT_LIMIT + 2n)), sorted([key(21), key(23)]));
    assert.deepEqual(sorted(idx.candidates(0n)), sorted([key(20), key(22), key(23)]));
  });

  it('rejects a bad side or a non-bigint price', () => {
    const idx = new PositionIndex();
    assert.throws(() => idx.upsert(key(1), 'sideways' as PositionSide, 1n), TypeError);
    assert.throws(() => idx.upsert(key(1), 'long', 1 as unknown as bigint), TypeError);
    assert.throws(() => idx.candidates(1 as unknown as bigint), TypeError);
  });

  // Prices cluster on a few values (ties, one-wei neighbours above 2^53) plus extremes.
  const priceArb = fc.oneof(
    fc.bigInt(2999n * E18 - 3n, 2999n * E18 + 3n),
    fc.bigInt(3000n * E18 - 3n, 3000n * E18 + 3n),
    fc.bigInt(0n, 3n),
    fc.bigInt(-(10n ** 31n), 10n ** 31n),
    fc.bigInt(SPLIT_LIMIT - 2n, SPLIT_LIMIT + 2n),
    fc.bigInt(-SPLIT_LIMIT - 2n, -SPLIT_LIMIT + 2n),
  );
  const opArb = fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('upsert' as const), k: fc.nat(40), side: fc.constantFrom<PositionSide>('long', 'short'), liq: fc.option(priceArb, { freq: 8 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('remove' as const), k: fc.nat(40) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('query' as const), p: priceArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('compact' as const) }) },
  );

  it('property: after any sequence of upserts/removes, candidates(p) equals a naive scan', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), fc.array(priceArb, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 8 }), (ops, probes, bufferLimit) => {
        const idx = new PositionIndex({ bufferLimit });
        const model = new Map<string, Entry>();
        const check = (p: bigint): void => assert.deepEqual(sorted(idx.candidates(p)), sorted(naive(model, p)), `price ${p}`);
        for (const o of ops) {
          if (o.op === 'upsert') {
            idx.upsert(key(o.k), o.side, o.liq);
            if (o.liq === null) model.delete(key(o.k));
            else model.set(key(o.k), { side: o.side, liq: o.liq });
          } else if (o.op === 'remove') {
            assert.equal(idx.remove(key(o.k)), model.delete(key(o.k)));
          } else if (o.op === 'query') {
            check(o.p);
          } else {
            idx.compact();
          }
          assert.equal(idx.size, model.size);
        }
        for (const p of probes) check(p);
      }),
      { numRuns: 1_000 },
    );
  });

  it('matches a naive scan through bulk load, merges, churn and id reuse (5,000 positions)', () => {
    let seed = 12345;
    const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const liqOf = (): bigint => 3000n * E18 + BigInt(Math.floor((rnd() - 0.5) * 1e6)) * 10n ** 15n + BigInt(Math.floor(rnd() * 4));
    const idx = new PositionIndex({ bufferLimit: 64 });
    const model = new Map<string, Entry>();
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 250; i++) {
        const k = key(Math.floor(rnd() * 5000));
        const r = rnd();
        if (r < 0.15) {
          idx.remove(k);
          model.delete(k);
        } else {
          const side: PositionSide = rnd() < 0.5 ? 'long' : 'short';
          const liq = liqOf();
          idx.upsert(k, side, liq);
          model.set(k, { side, liq });
        }
      }
      const p = liqOf();
      assert.deepEqual(sorted(idx.candidates(p)), sorted(naive(model, p)), `round ${round}`);
      assert.equal(idx.size, model.size);
    }
  });
});
