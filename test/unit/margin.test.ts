// The TypeScript margin maths (relayer/margin) against test/vectors/margin.json, which
// scripts/gen-margin-vectors.ts writes from an exact rational reference, independently of it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  CollateralKind,
  Rounding,
  Side,
  WAD,
  collateralValue,
  equity,
  freeCollateral,
  initialMargin,
  isLiquidatable,
  liquidationPlan,
  liquidationPrice,
  maintenanceMargin,
  mulDiv,
  notional,
  pnl,
  type IsolatedAccount,
} from '../../relayer/margin/index.js';
import {
  buildMarginVectors,
  marginVectorsPath,
  renderMarginVectors,
  type MarginVectorExpected,
  type MarginVectorInput,
  type MarginVectors,
} from '../../scripts/gen-margin-vectors.js';

const raw = readFileSync(marginVectorsPath, 'utf8');
// The file's shape is the generator's MarginVectors; the freshness test pins it to the generator.
const vectors = JSON.parse(raw) as MarginVectors;

function accountOf(input: MarginVectorInput): IsolatedAccount {
  return {
    position: {
      side: input.side === 'long' ? Side.Long : Side.Short,
      size: BigInt(input.size),
      entryPrice: BigInt(input.entryPrice),
    },
    collateral: { kind: input.collateralKind === 'stable' ? CollateralKind.Stable : CollateralKind.Asset, amount: BigInt(input.collateral) },
    fees: BigInt(input.fees),
  };
}

function evaluate(input: MarginVectorInput): MarginVectorExpected {
  const account = accountOf(input);
  const P = BigInt(input.markPrice);
  const mmr = BigInt(input.mmr);
  const liq = liquidationPrice(account, mmr);
  return {
    notional: notional(account.position.size, P).toString(),
    pnl: pnl(account.position, P).toString(),
    collateralValue: collateralValue(account.collateral, P).toString(),
    equity: equity(account, P).toString(),
    initialMargin: initialMargin(account.position, BigInt(input.imr), P).toString(),
    freeCollateral: freeCollateral(account, BigInt(input.imr), P).toString(),
    maintenanceMargin: maintenanceMargin(account.position, mmr, P).toString(),
    liquidatable: isLiquidatable(account, { imr: BigInt(input.imr), mmr }, P),
    liquidationPrice: liq === null ? null : liq.toString(),
  };
}

describe('margin maths (TypeScript) against test/vectors/margin.json', function () {
  it('has a vector file identical to what the generator writes', function () {
    assert.ok(raw === renderMarginVectors(buildMarginVectors()), 'test/vectors/margin.json is stale: run npx tsx scripts/gen-margin-vectors.ts');
  });

  it('covers long and short with stable and asset collateral, boundaries and none-cases', function () {
    assert.ok(vectors.cases.length >= 40, `only ${vectors.cases.length} cases`);
    for (const side of ['long', 'short']) {
      for (const kind of ['stable', 'asset']) {
        const of = vectors.cases.filter((v) => v.input.side === side && v.input.collateralKind === kind);
        assert.ok(of.length >= 10, `${side} ${kind}: ${of.length} cases`);
      }
    }
    const results = vectors.cases.map((v) => v.expected);
    assert.ok(results.some((e) => e.liquidationPrice === null && e.equity !== '0'));
    assert.ok(results.some((e) => e.liquidatable) && results.some((e) => !e.liquidatable));
    assert.ok(results.some((e) => e.pnl === '0'));
  });

  it('computes every case exactly as the file says', function () {
    for (const v of vectors.cases) assert.deepEqual(evaluate(v.input), v.expected, v.name);
  });

  it('computes every mulDiv vector exactly as the file says', function () {
    assert.ok(vectors.mulDiv.length >= 8);
    for (const v of vectors.mulDiv) {
      const rounding = v.rounding === 'up' ? Rounding.Up : Rounding.Down;
      assert.equal(mulDiv(BigInt(v.x), BigInt(v.y), BigInt(v.d), rounding).toString(), v.expected, v.name);
    }
  });

  it('plans every liquidation vector exactly as the file says: the smallest close that restores the margin, else all', function () {
    assert.ok(vectors.liquidation.length >= 10);
    assert.ok(vectors.liquidation.some((v) => v.expected.full) && vectors.liquidation.some((v) => !v.expected.full));
    assert.ok(vectors.liquidation.some((v) => v.expected.deficit !== '0'), 'a case ends in bad debt');
    for (const v of vectors.liquidation) {
      const i = v.input;
      const account = {
        position: { side: i.side === 'long' ? Side.Long : Side.Short, size: BigInt(i.size), entryPrice: BigInt(i.entryPrice) },
        collateral: { kind: CollateralKind.Stable, amount: BigInt(i.collateral) },
        fees: BigInt(i.fees),
      };
      const plan = liquidationPlan(account, BigInt(i.mmr), BigInt(i.penaltyRate), BigInt(i.price));
      assert.deepEqual({ closeSize: plan.closeSize.toString(), penalty: plan.penalty.toString(), full: plan.full, deficit: plan.deficit.toString() }, v.expected, v.name);
    }
  });

  it('refuses what the Solidity library reverts on', function () {
    const account = accountOf({
      side: 'long', collateralKind: 'stable', collateral: '1', size: WAD.toString(), entryPrice: WAD.toString(),
      markPrice: '0', imr: '0', mmr: '0', fees: '0',
    });
    assert.throws(() => mulDiv(1n, 1n, 0n, Rounding.Down), RangeError);
    assert.throws(() => mulDiv(2n ** 255n, 4n, 1n, Rounding.Down), /mulDiv result/);
    assert.throws(() => liquidationPrice(account, WAD), /mmr/);
    assert.throws(() => maintenanceMargin(account.position, WAD + 1n, WAD), /mmr/);
    assert.throws(() => equity({ ...account, position: { ...account.position, size: 0n } }, WAD), /size/);
    assert.throws(() => initialMargin({ ...account.position, size: 2n ** 200n }, WAD, 2n ** 60n), /size·markPrice/);
    assert.throws(() => pnl({ ...account.position, size: 2n ** 255n - 1n, entryPrice: 0n }, 2n * WAD), /pnl/);
  });
});
