// The replacement fee rule (relayer/chains/tx/fees.ts, RELIABILITY.md rule 7): a bump is at
// least +10 % on both fields (what nodes require to replace), never below the market, and stops
// at the cap.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bumpFees, type Fees } from '../../relayer/chains/tx/fees.js';

const gwei = 1_000_000_000n;
const fees = (maxFeePerGas: bigint, maxPriorityFeePerGas: bigint): Fees => ({ maxFeePerGas, maxPriorityFeePerGas });
/** What geth's txpool asks of a replacement: new ≥ old × 110 / 100 on each field. */
const replaces = (next: bigint, last: bigint): boolean => next * 100n >= last * 110n;

describe('bumpFees', function () {
  it('raises both fields by at least 10 % when the market is flat', function () {
    const first = fees(30n * gwei, 1n * gwei);
    const next = bumpFees(first, first, first, 4);
    assert.ok(next !== null);
    assert.ok(replaces(next.maxFeePerGas, first.maxFeePerGas), `maxFee ${next.maxFeePerGas}`);
    assert.ok(replaces(next.maxPriorityFeePerGas, first.maxPriorityFeePerGas), `tip ${next.maxPriorityFeePerGas}`);
  });

  it('follows the market when it rose more than the bump', function () {
    const first = fees(30n * gwei, 1n * gwei);
    const market = fees(50n * gwei, 3n * gwei);
    assert.deepEqual(bumpFees(first, market, first, 4), market);
  });

  it('returns null once the next bump would pass the cap', function () {
    const first = fees(100n * gwei, 2n * gwei);
    assert.equal(bumpFees(first, first, first, 1.0), null, 'a cap of 1× allows no bump at all');
    let last: Fees = first;
    let bumps = 0;
    for (;;) {
      const next = bumpFees(last, first, first, 2);
      if (next === null) break;
      assert.ok(next.maxFeePerGas <= 200n * gwei, 'never above cap × first estimate');
      last = next;
      bumps++;
      assert.ok(bumps < 100, 'the bumps must end');
    }
    // 1.125^5 ≈ 1.80, 1.125^6 ≈ 2.03: five bumps fit under 2×, the sixth does not.
    assert.equal(bumps, 5);
  });

  it('returns null when the market alone is above the cap', function () {
    const first = fees(10n * gwei, 1n * gwei);
    assert.equal(bumpFees(first, fees(100n * gwei, 1n * gwei), first, 4), null);
  });

  it('holds for any fees: ≥ +10 % on both fields, ≥ market, ≤ cap, or null', function () {
    const amount = fc.bigInt({ min: 0n, max: 10n ** 15n });
    fc.assert(
      fc.property(amount, amount, amount, amount, fc.integer({ min: 1, max: 20 }), (tip, extra, mTip, mExtra, cap) => {
        const last = fees(tip + extra, tip);
        const market = fees(mTip + mExtra, mTip);
        const next = bumpFees(last, market, last, cap);
        if (next === null) return;
        assert.ok(replaces(next.maxFeePerGas, last.maxFeePerGas));
        assert.ok(replaces(next.maxPriorityFeePerGas, last.maxPriorityFeePerGas));
        assert.ok(next.maxFeePerGas >= market.maxFeePerGas && next.maxPriorityFeePerGas >= market.maxPriorityFeePerGas);
        assert.ok(next.maxFeePerGas <= last.maxFeePerGas * BigInt(cap));
        assert.ok(next.maxPriorityFeePerGas <= next.maxFeePerGas);
      }),
      { numRuns: 2000 },
    );
  });
});
