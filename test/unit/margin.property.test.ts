// Properties of the margin maths over arbitrary positions (fast-check): the liquidation price sits
// on the maintenance boundary within one unit of rounding, on the trader's losing side; equity is
// monotonic in price; the check of one position never depends on another.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CollateralKind,
  Side,
  WAD,
  equity,
  isLiquidatable,
  liquidationPrice,
  maintenanceMargin,
  type IsolatedAccount,
} from '../../relayer/margin/index.js';

const WAD2 = WAD * WAD;
const RUNS = 2_000;

/** A position from 1 wei to 1e12 units, priced from 1 wei to 1e6 USD, at 0–2× collateralisation. */
const accountArb: fc.Arbitrary<{ account: IsolatedAccount; mmr: bigint }> = fc
  .record({
    long: fc.boolean(),
    asset: fc.boolean(),
    size: fc.oneof(fc.bigInt(1n, 10n ** 6n), fc.bigInt(1n, 10n ** 30n)),
    entryPrice: fc.oneof(fc.bigInt(1n, 10n ** 6n), fc.bigInt(1n, 10n ** 24n)),
    permille: fc.bigInt(0n, 2_000n),
    noise: fc.bigInt(0n, 10n ** 9n),
    feePermille: fc.bigInt(0n, 50n),
    mmr: fc.oneof(fc.constant(0n), fc.bigInt(0n, WAD / 2n), fc.bigInt(WAD - 10n ** 6n, WAD - 1n)),
  })
  .map((r) => {
    const entryNotional = (r.size * r.entryPrice) / WAD;
    const amount = (r.asset ? r.size : entryNotional) * r.permille / 1_000n + r.noise;
    return {
      account: {
        position: { side: r.long ? Side.Long : Side.Short, size: r.size, entryPrice: r.entryPrice },
        collateral: { kind: r.asset ? CollateralKind.Asset : CollateralKind.Stable, amount },
        fees: (entryNotional * r.feePermille) / 1_000n,
      },
      mmr: r.mmr,
    };
  });

/** equity − maintenance margin at P, as the library computes both. */
function slack(account: IsolatedAccount, mmr: bigint, price: bigint): bigint {
  return equity(account, price) - maintenanceMargin(account.position, mmr, price);
}

/**
 * The fixed-point slack lies in (exact − R, exact]: each floored equity term loses under one unit
 * (pnl; and the asset collateral's value), the ceiled maintenance margin adds under one.
 */
function roundingUnits(account: IsolatedAccount): bigint {
  return account.collateral.kind === CollateralKind.Asset ? 3n : 2n;
}

/** |d(slack)/dP| · 1e36, exactly: how much slack one price tick moves, in 1e-36 USD. */
function slopePerTick(account: IsolatedAccount, mmr: bigint): bigint {
  const q = account.position.size;
  const a = account.collateral.kind === CollateralKind.Asset ? account.collateral.amount * WAD : 0n;
  return account.position.side === Side.Long ? q * (WAD - mmr) + a : q * (WAD + mmr) - a;
}

const ceilDiv = (n: bigint, d: bigint): bigint => (n + d - 1n) / d;

describe('margin maths properties', function () {
  it('puts the liquidation price on the maintenance boundary, on the trader’s losing side', function () {
    let priced = 0;
    fc.assert(
      fc.property(accountArb, ({ account, mmr }) => {
        const p = liquidationPrice(account, mmr);
        const R = roundingUnits(account);
        const long = account.position.side === Side.Long;
        if (p === null) {
          // No price on the losing side liquidates it exactly; rounding alone may not exceed R.
          for (const price of [0n, 1n, account.position.entryPrice, account.position.entryPrice * 10n]) {
            assert.ok(slack(account, mmr, price) > -R, `none, yet slack ${slack(account, mmr, price)} at ${price}`);
          }
          return;
        }
        priced += 1;
        const s = slopePerTick(account, mmr);
        // One tick further on the losing side the position is liquidatable, so no price beyond
        // the trigger escapes: the rounding of the price only ever liquidates earlier.
        const worse = long ? p - 1n : p + 1n;
        if (worse >= 0n) assert.ok(isLiquidatable(account, { imr: WAD, mmr }, worse), `not liquidatable at ${worse}`);
        // A short clamped to 0 (fees above its backing) is below the boundary by more than rounding.
        if (!long && p === 0n) return;
        // At the trigger: exact slack in [0, one tick), so equity ≤ MM + one tick's worth and the
        // fixed-point slack is above −R.
        const atP = slack(account, mmr, p);
        assert.ok(atP * WAD2 < s, `slack ${atP} at ${p} is a tick or more above the boundary`);
        assert.ok(atP > -R, `slack ${atP} at ${p} is below the boundary by more than rounding`);
        // k ticks in the trader's favour the rounding can no longer make it liquidatable; for a
        // position whose slack moves at least R units per tick that is one tick.
        const k = ceilDiv(R * WAD2, s);
        const better = long ? p + k : p - k;
        if (better >= 0n) assert.ok(!isLiquidatable(account, { imr: WAD, mmr }, better), `liquidatable ${k} tick(s) in favour at ${better}`);
        if (s >= R * WAD2) assert.equal(k, 1n);
      }),
      { numRuns: RUNS },
    );
    assert.ok(priced > RUNS / 4, `only ${priced} of ${RUNS} positions had a liquidation price`);
  });

  it('makes equity monotonic in price: up for longs and stable shorts down; asset shorts by sign(a − q), within one unit', function () {
    fc.assert(
      fc.property(accountArb, fc.bigInt(0n, 10n ** 25n), fc.bigInt(0n, 10n ** 25n), ({ account }, x, y) => {
        const [lo, hi] = x <= y ? [x, y] : [y, x];
        const low = equity(account, lo);
        const high = equity(account, hi);
        if (account.position.side === Side.Long) return assert.ok(low <= high, `long: ${low} at ${lo} > ${high} at ${hi}`);
        if (account.collateral.kind === CollateralKind.Stable) return assert.ok(low >= high, `short: ${low} at ${lo} < ${high} at ${hi}`);
        // aP rounds down and q(E − P) rounds toward −∞ separately, so their sum may jitter by one.
        if (account.collateral.amount <= account.position.size) assert.ok(high <= low + 1n, `asset short a ≤ q: ${low} → ${high}`);
        if (account.collateral.amount >= account.position.size) assert.ok(low <= high + 1n, `asset short a ≥ q: ${low} → ${high}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('checks positions in an index exactly as alone, and liquidating one leaves the other unchanged', function () {
    fc.assert(
      fc.property(accountArb, accountArb, fc.bigInt(0n, 10n ** 25n), (first, second, price) => {
        const entries = [
          ['first', Object.freeze({ ...first, account: deepFreeze(first.account) })],
          ['second', Object.freeze({ ...second, account: deepFreeze(second.account) })],
        ] as const;
        const alone = entries.map(([, e]) => check(e.account, e.mmr, price));
        const index = new Map(entries);
        const together = [...index.values()].map((e) => check(e.account, e.mmr, price));
        assert.deepEqual(together, alone);
        // Liquidate whichever is liquidatable (or the first): the other's check is unchanged.
        const victim = alone[1]?.liquidatable === true ? 'second' : 'first';
        index.delete(victim);
        const survivor = [...index.values()].map((e) => check(e.account, e.mmr, price));
        assert.deepEqual(survivor, [alone[victim === 'first' ? 1 : 0]]);
      }),
      { numRuns: RUNS },
    );
  });
});

function check(account: IsolatedAccount, mmr: bigint, price: bigint): { liquidatable: boolean; liquidationPrice: bigint | null; equity: bigint } {
  return {
    liquidatable: isLiquidatable(account, { imr: WAD, mmr }, price),
    liquidationPrice: liquidationPrice(account, mmr),
    equity: equity(account, price),
  };
}

/** Frozen inputs: a function that tried to mutate one would throw (ES modules are strict). */
function deepFreeze(account: IsolatedAccount): IsolatedAccount {
  return Object.freeze({
    position: Object.freeze({ ...account.position }),
    collateral: Object.freeze({ ...account.collateral }),
    fees: account.fees,
  });
}
