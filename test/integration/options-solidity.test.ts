// The Solidity options maths (contracts/libraries/OptionsMath.sol through contracts/test/OptionsHarness.sol)
// against test/vectors/options.json on one anvil: the same file the TypeScript maths is tested on.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isError } from 'ethers';
import { optionsVectorsPath, type OptionsCall, type OptionsVectors } from '../../scripts/gen-options-vectors.js';
import { useHarness } from '../setup/harness.js';

const vectors = JSON.parse(readFileSync(optionsVectorsPath, 'utf8')) as OptionsVectors;

describe('options maths (Solidity) against test/vectors/options.json', function () {
  this.timeout(120_000);

  const harnessOf = useHarness('OptionsHarness');
  const call = (fn: string, ...args: unknown[]): Promise<unknown> => harnessOf().getFunction(fn).staticCall(...args);

  it('computes payoff and intrinsic delta of every strategy at every listed price', async function () {
    // All calls issued at once: ethers batches them into few JSON-RPC requests.
    const results = await Promise.all(
      vectors.strategies.map(async (v) => {
        const prices = v.payoffs.map((p) => p.price);
        const payoffs = (await call('payoffs', v.legs, prices)) as bigint[];
        const deltas = await Promise.all(prices.map((p) => call('intrinsicDelta', v.legs, p)));
        return { v, payoffs: [...payoffs].map(String), deltas: deltas.map(String) };
      }),
    );
    let checked = 0;
    for (const { v, payoffs, deltas } of results) {
      assert.deepEqual(payoffs, v.payoffs.map((p) => p.payoff), v.name);
      assert.deepEqual(deltas, v.payoffs.map((p) => p.intrinsicDelta), v.name);
      checked += payoffs.length;
    }
    assert.ok(checked >= 250, `only ${checked} payoffs`);
  });

  it('says which strategies are defined risk, and their maximum loss (or reverts NotDefinedRisk)', async function () {
    const results = await Promise.all(
      vectors.strategies.map(async (v) => ({
        v,
        definedRisk: (await call('isDefinedRisk', v.legs)) as boolean,
        maxLoss: await call('maxLoss', v.legs, v.premium).then(String, revertName),
      })),
    );
    assert.ok(results.length >= 25);
    for (const { v, definedRisk, maxLoss } of results) {
      assert.equal(definedRisk, v.definedRisk, v.name);
      assert.equal(maxLoss, v.maxLoss ?? 'revert NotDefinedRisk', v.name);
    }
  });

  it('values every strategy, and computes every scenario loss and settlement price', async function () {
    const jobs = vectors.strategies.flatMap((v) => [
      ...v.values.map((x) => ({ what: `${v.name}: value ${JSON.stringify(x)}`, expected: x.value, run: () => call('value', v.legs, x.s, x.sigma, x.t) })),
      ...v.scenarioLosses.map((x) => ({
        what: `${v.name}: scenarioLoss ${JSON.stringify(x)}`,
        expected: x.loss,
        run: () => call('scenarioLoss', v.legs, v.premium, x.s0, x.sigma, x.t, x.params),
      })),
      ...v.worstPrices.map((x) => ({ what: `${v.name}: worstPrice ${JSON.stringify(x)}`, expected: x.price, run: () => call('worstPrice', v.legs, x.low, x.high) })),
    ]);
    const results = await Promise.all(jobs.map(async (j) => ({ j, actual: String(await j.run()) })));
    assert.ok(results.length >= 450, `only ${results.length} calls`);
    for (const { j, actual } of results) assert.equal(actual, j.expected, j.what);
  });

  it('bounds the time value and scales the rate exactly as the file says', async function () {
    const bounds = await Promise.all(vectors.timeValueBound.map(async (x) => ({ x, actual: String(await call('timeValueBound', x.s, x.sigma, x.t)) })));
    assert.ok(bounds.length >= 100);
    for (const { x, actual } of bounds) assert.equal(actual, x.bound, JSON.stringify(x));
    const rates = await Promise.all(vectors.scaledRate.map(async (x) => ({ x, actual: String(await call('scaledRate', x.mmr, x.sigma, x.sigmaRef, x.mmrMin, x.mmrMax)) })));
    assert.ok(rates.length >= 8);
    for (const { x, actual } of rates) assert.equal(actual, x.rate, x.name);
  });

  it('reverts with the custom error the file names', async function () {
    const run = (c: OptionsCall): Promise<unknown> => {
      switch (c.fn) {
        case 'payoff':
          return call('payoff', c.legs, c.price);
        case 'maxLoss':
          return call('maxLoss', c.legs, c.premium);
        case 'worstPrice':
          return call('worstPrice', c.legs, c.low, c.high);
        case 'scaledRate':
          return call('scaledRate', c.mmr, c.sigma, c.sigmaRef, c.mmrMin, c.mmrMax);
      }
    };
    const results = await Promise.all(vectors.refusals.map(async (r) => ({ r, actual: await run(r.call).then((x) => `returned ${String(x)}`, revertName) })));
    assert.ok(results.length >= 8);
    for (const { r, actual } of results) assert.equal(actual, `revert ${r.revert}`, r.name);
  });

  it('costs the engine a bounded amount of gas for an 8-leg scenario margin', async function () {
    const v = vectors.strategies.find((s) => s.legs.length === 8);
    assert.ok(v !== undefined);
    const [, gasUsed] = (await call('scenarioLossGas', v.legs, v.premium, '3000000000000000000000', '800000000000000000', '604800', {
      shockBps: 2_000n,
      volShockBps: 3_000n,
      steps: 10n,
    })) as [bigint, bigint];
    // 21 prices × 8 legs, each with a 512-bit mulDiv and a square root: well under a block's worth.
    assert.ok(gasUsed < 1_500_000n, `scenarioLoss used ${gasUsed} gas`);
  });
});

/** "revert Name" for a custom-error revert the harness's ABI decodes; anything else is rethrown. */
function revertName(error: unknown): string {
  if (isError(error, 'CALL_EXCEPTION') && error.revert !== null) return `revert ${error.revert.name}`;
  throw error;
}
