// The Solidity margin maths (contracts/libraries/MarginMath.sol through contracts/test/MarginHarness.sol)
// against test/vectors/margin.json on one anvil: the same file the TypeScript maths is tested on.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { marginVectorsPath, type MarginVectorExpected, type MarginVectors } from '../../scripts/gen-margin-vectors.js';
import { useHarness } from '../setup/harness.js';

const vectors = JSON.parse(readFileSync(marginVectorsPath, 'utf8')) as MarginVectors;
// Read directly: relayer/chains/contractsAbi.ts lists only the contracts the relayer deploys.

/** The Solidity enums' ordinals (MarginMath.Side, MarginMath.CollateralKind, MarginMath.Rounding). */
const SIDE = { long: 0, short: 1 } as const;
const KIND = { stable: 0, asset: 1 } as const;
const ROUNDING = { down: 0, up: 1 } as const;

/** MarginHarness.Outputs as the vectors spell them. */
function expectedOf(o: Record<string, unknown>): MarginVectorExpected {
  return {
    notional: String(o.notional),
    pnl: String(o.pnl),
    collateralValue: String(o.collateralValue),
    equity: String(o.equity),
    initialMargin: String(o.initialMargin),
    freeCollateral: String(o.freeCollateral),
    maintenanceMargin: String(o.maintenanceMargin),
    liquidatable: o.liquidatable === true,
    liquidationPrice: o.hasLiquidationPrice === true ? String(o.liquidationPrice) : null,
  };
}

describe('margin maths (Solidity) against test/vectors/margin.json', function () {
  this.timeout(60_000);

  const harnessOf = useHarness('MarginHarness');

  it('computes every case exactly as the file says', async function () {
    // All calls issued at once: ethers batches them into few JSON-RPC requests.
    const results = await Promise.all(
      vectors.cases.map(async (v) => {
        const i = v.input;
        const account = {
          position: { side: SIDE[i.side], size: i.size, entryPrice: i.entryPrice },
          collateral: { kind: KIND[i.collateralKind], amount: i.collateral },
          fees: i.fees,
        };
        const out = await harnessOf().getFunction('evaluate').staticCall(account, i.imr, i.mmr, i.markPrice);
        return { v, actual: expectedOf((out as { toObject(): Record<string, unknown> }).toObject()) };
      }),
    );
    assert.equal(results.length, vectors.cases.length);
    assert.ok(results.length >= 40);
    for (const { v, actual } of results) assert.deepEqual(actual, v.expected, v.name);
  });

  it('computes every mulDiv vector exactly as the file says', async function () {
    const results = await Promise.all(
      vectors.mulDiv.map(async (v) => ({
        v,
        actual: String(await harnessOf().getFunction('mulDiv').staticCall(v.x, v.y, v.d, ROUNDING[v.rounding])),
      })),
    );
    assert.ok(results.length >= 8);
    for (const { v, actual } of results) assert.equal(actual, v.expected, v.name);
  });

  it('plans every liquidation vector exactly as the file says (partial, penalty, full)', async function () {
    const results = await Promise.all(
      vectors.liquidation.map(async (v) => {
        const i = v.input;
        const account = { position: { side: SIDE[i.side], size: i.size, entryPrice: i.entryPrice }, collateral: { kind: KIND.stable, amount: i.collateral }, fees: i.fees };
        const [closeSize, penalty, full, deficit] = (await harnessOf().getFunction('liquidationPlan').staticCall(account, i.mmr, i.penaltyRate, i.price)) as [bigint, bigint, boolean, bigint];
        return { v, actual: { closeSize: String(closeSize), penalty: String(penalty), full, deficit: String(deficit) } };
      }),
    );
    assert.ok(results.length >= 10);
    for (const { v, actual } of results) assert.deepEqual(actual, v.expected, v.name);
  });
});
