// The TypeScript options maths (relayer/margin/options.ts, volatility.ts, strategy.ts) against
// test/vectors/options.json, which scripts/gen-options-vectors.ts writes from an exact rational
// reference, independently of it; and the worked examples of docs/options.md, read from the doc.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  INV_SQRT_2PI,
  OptionsDomainError,
  Rounding,
  StrategyKind,
  WAD,
  YEAR,
  describeStrategy,
  ewmaVariance,
  intrinsicDelta,
  isDefinedRisk,
  maxLoss,
  mulDiv,
  payoff,
  scaledRate,
  scenarioLoss,
  sqrt,
  sqrtWad,
  timeValueBound,
  value,
  worstPrice,
  type OptionLeg,
} from '../../relayer/margin/index.js';
import {
  buildOptionsVectors,
  optionsVectorsPath,
  renderOptionsVectors,
  type LegVector,
  type OptionsCall,
  type OptionsVectors,
  type ScenarioParamsVector,
} from '../../scripts/gen-options-vectors.js';
import { repoRoot } from '../../scripts/build-contracts.js';

const raw = readFileSync(optionsVectorsPath, 'utf8');
// The file's shape is the generator's OptionsVectors; the freshness test pins it to the generator.
const vectors = JSON.parse(raw) as OptionsVectors;

const legsOf = (legs: LegVector[]): OptionLeg[] =>
  legs.map((l) => ({ isCall: l.isCall, isLong: l.isLong, strike: BigInt(l.strike), size: BigInt(l.size) }));
const paramsOf = (p: ScenarioParamsVector) => ({ shockBps: BigInt(p.shockBps), volShockBps: BigInt(p.volShockBps), steps: BigInt(p.steps) });

function run(call: OptionsCall): bigint {
  switch (call.fn) {
    case 'payoff':
      return payoff(legsOf(call.legs), BigInt(call.price));
    case 'maxLoss':
      return maxLoss(legsOf(call.legs), BigInt(call.premium));
    case 'worstPrice':
      return worstPrice(legsOf(call.legs), BigInt(call.low), BigInt(call.high));
    case 'scaledRate':
      return scaledRate(BigInt(call.mmr), BigInt(call.sigma), BigInt(call.sigmaRef), BigInt(call.mmrMin), BigInt(call.mmrMax));
  }
}

describe('options maths (TypeScript) against test/vectors/options.json', function () {
  it('reads a vector file that is up to date with its generator', function () {
    assert.ok(raw === renderOptionsVectors(buildOptionsVectors()), 'test/vectors/options.json is stale: run npx tsx scripts/gen-options-vectors.ts');
  });

  it('uses the 1/√(2π) the generator derives from π', function () {
    assert.equal(INV_SQRT_2PI.toString(), vectors.invSqrt2Pi);
  });

  it('computes payoff and intrinsic delta of every strategy at every listed price', function () {
    const checked = vectors.strategies.flatMap((v) => v.payoffs.map((p) => ({ v, p })));
    assert.ok(checked.length >= 250, `only ${checked.length} payoffs`);
    for (const { v, p } of checked) {
      const legs = legsOf(v.legs);
      assert.equal(payoff(legs, BigInt(p.price)).toString(), p.payoff, `${v.name}: payoff at ${p.price}`);
      assert.equal(intrinsicDelta(legs, BigInt(p.price)).toString(), p.intrinsicDelta, `${v.name}: delta at ${p.price}`);
    }
  });

  it('says which strategies are defined risk, and their maximum loss (or refuses it)', function () {
    assert.ok(vectors.strategies.length >= 25);
    assert.ok(vectors.strategies.some((v) => v.definedRisk) && vectors.strategies.some((v) => !v.definedRisk));
    for (const v of vectors.strategies) {
      const legs = legsOf(v.legs);
      assert.equal(isDefinedRisk(legs), v.definedRisk, v.name);
      if (v.maxLoss === null) assert.throws(() => maxLoss(legs, BigInt(v.premium)), (e) => e instanceof OptionsDomainError && e.revert === 'NotDefinedRisk', v.name);
      else assert.equal(maxLoss(legs, BigInt(v.premium)).toString(), v.maxLoss, v.name);
    }
  });

  it('values every strategy conservatively at t = 0, 1 day and 1 year', function () {
    const checked = vectors.strategies.flatMap((v) => v.values.map((x) => ({ v, x })));
    assert.ok(checked.length >= 200);
    for (const { v, x } of checked) {
      assert.equal(value(legsOf(v.legs), BigInt(x.s), BigInt(x.sigma), BigInt(x.t)).toString(), x.value, `${v.name}: value at ${x.s}, σ ${x.sigma}, t ${x.t}`);
    }
  });

  it('computes every scenario loss', function () {
    const checked = vectors.strategies.flatMap((v) => v.scenarioLosses.map((x) => ({ v, x })));
    assert.ok(checked.length >= 150);
    for (const { v, x } of checked) {
      const loss = scenarioLoss(legsOf(v.legs), BigInt(v.premium), BigInt(x.s0), BigInt(x.sigma), BigInt(x.t), paramsOf(x.params));
      assert.equal(loss.toString(), x.loss, `${v.name}: ${JSON.stringify(x.params)} at t ${x.t}`);
    }
  });

  it('picks the settlement price worst for the trader in every range', function () {
    const checked = vectors.strategies.flatMap((v) => v.worstPrices.map((x) => ({ v, x })));
    assert.ok(checked.length >= 100);
    for (const { v, x } of checked) assert.equal(worstPrice(legsOf(v.legs), BigInt(x.low), BigInt(x.high)).toString(), x.price, `${v.name}: [${x.low}, ${x.high}]`);
  });

  it('bounds the time value and scales the rate exactly as the file says', function () {
    assert.ok(vectors.timeValueBound.length >= 100);
    for (const x of vectors.timeValueBound) assert.equal(timeValueBound(BigInt(x.s), BigInt(x.sigma), BigInt(x.t)).toString(), x.bound, JSON.stringify(x));
    assert.ok(vectors.scaledRate.length >= 8);
    for (const x of vectors.scaledRate) {
      assert.equal(scaledRate(BigInt(x.mmr), BigInt(x.sigma), BigInt(x.sigmaRef), BigInt(x.mmrMin), BigInt(x.mmrMax)).toString(), x.rate, x.name);
    }
  });

  it('refuses what the Solidity library reverts on, naming the same error', function () {
    assert.ok(vectors.refusals.length >= 8);
    for (const r of vectors.refusals) {
      assert.throws(() => run(r.call), (e) => e instanceof OptionsDomainError && e.revert === r.revert, r.name);
    }
  });

  it('estimates the variance and σ as the file says (EWMA, both rounded up)', function () {
    assert.ok(vectors.ewma.length >= 8);
    for (const x of vectors.ewma) {
      const v = ewmaVariance(x.prev === null ? null : BigInt(x.prev), BigInt(x.prevPrice), BigInt(x.price), BigInt(x.dt), BigInt(x.lambda));
      assert.equal(v.toString(), x.variance, x.name);
      assert.equal(sqrtWad(v).toString(), x.sigma, x.name);
    }
    // A number of seconds works as a bigint does, and the default λ is 0.94.
    const [first] = vectors.ewma;
    assert.ok(first !== undefined);
    assert.equal(ewmaVariance(null, BigInt(first.prevPrice), BigInt(first.price), Number(first.dt)).toString(), first.variance);
    assert.throws(() => ewmaVariance(null, 0n, WAD, 1), RangeError);
    assert.throws(() => ewmaVariance(null, WAD, WAD, 0), RangeError);
    assert.throws(() => ewmaVariance(null, WAD, WAD, 1.5), RangeError);
  });
});

describe('describeStrategy', function () {
  const byName = new Map(vectors.strategies.map((v) => [v.name, v]));
  const kindOf = (name: string) => {
    const v = byName.get(name);
    assert.ok(v !== undefined, `no vector named ${name}`);
    return describeStrategy(legsOf(v.legs), BigInt(v.premium)).kind;
  };

  it('recognises the common strategies and calls the rest custom', function () {
    const expected: [string, StrategyKind][] = [
      ['long call at the money', StrategyKind.Call],
      ['short put (uncovered)', StrategyKind.Put],
      ['call vertical, debit (long 3000 / short 3200)', StrategyKind.CallVertical],
      ['put vertical, credit (short 3000 / long 2800)', StrategyKind.PutVertical],
      ['long straddle', StrategyKind.Straddle],
      ['short strangle', StrategyKind.Strangle],
      ['iron condor, credit (docs/options.md worked example)', StrategyKind.IronCondor],
      ['long call butterfly 2900/3000/3100', StrategyKind.Butterfly],
      ['iron butterfly, credit', StrategyKind.Butterfly],
      ['call ratio spread 1×2 (uncovered)', StrategyKind.Custom],
      ['eight legs: condor and butterfly', StrategyKind.Custom],
      ['strike at the price, split across two legs', StrategyKind.CallVertical],
    ];
    for (const [name, kind] of expected) assert.equal(kindOf(name), kind, name);
  });

  it('reports the maximum loss only for defined risk, and breakevens rounded into the profitable range', function () {
    const W = WAD;
    const longCall = describeStrategy([{ isCall: true, isLong: true, strike: 3000n * W, size: 3n * W }], 100n * W);
    // 3000 + 100/3: the profitable range starts at 3033.33…, shown rounded up into it.
    assert.deepEqual(longCall, { kind: StrategyKind.Call, definedRisk: true, maxLoss: 100n * W, breakevens: [3_033_333_333_333_333_333_334n] });
    const shortStraddle = describeStrategy(
      [{ isCall: true, isLong: false, strike: 3000n * W, size: 3n * W }, { isCall: false, isLong: false, strike: 3000n * W, size: 3n * W }],
      -100n * W,
    );
    assert.deepEqual(shortStraddle, { kind: StrategyKind.Straddle, definedRisk: false, maxLoss: null, breakevens: [2_966_666_666_666_666_666_667n, 3_033_333_333_333_333_333_333n] });
    // Profitable everywhere but at one price of zero loss: the loss touches 0 and does not cross it.
    const touch = describeStrategy([{ isCall: true, isLong: true, strike: 3000n * W, size: W }, { isCall: false, isLong: true, strike: 3000n * W, size: W }], 0n);
    assert.deepEqual(touch.breakevens, []);
    // A credit never lost: no breakeven at all.
    assert.deepEqual(describeStrategy([{ isCall: true, isLong: true, strike: 3000n * W, size: W }], -W).breakevens, []);
  });

  it('puts every breakeven where the loss changes sign, on the profitable side of it', function () {
    let found = 0;
    for (const v of vectors.strategies) {
      const legs = legsOf(v.legs);
      const premium = BigInt(v.premium);
      const loss = (s: bigint) => premium - payoff(legs, s);
      const { breakevens } = describeStrategy(legs, premium);
      assert.deepEqual(breakevens, [...breakevens].sort((a, b) => (a < b ? -1 : 1)), v.name);
      for (const b of breakevens) {
        found += 1;
        // Rounded into the profitable range: no loss at b, and a wei away on one side, no profit.
        assert.ok(loss(b) <= 0n, `${v.name}: loss ${loss(b)} at breakeven ${b}`);
        assert.ok(loss(b - 1n) >= 0n || loss(b + 1n) >= 0n, `${v.name}: profit on both sides of ${b}`);
      }
    }
    assert.ok(found >= 30, `only ${found} breakevens`);
  });
});

/** The rows of the table after `<!-- example: name -->` in docs/options.md. */
function docTable(name: string): string[][] {
  const doc = readFileSync(join(repoRoot, 'docs', 'options.md'), 'utf8');
  const at = doc.indexOf(`<!-- example: ${name} -->`);
  assert.ok(at >= 0, `docs/options.md has no example ${name}`);
  const lines = doc.slice(at).split('\n').slice(1);
  const rows: string[][] = [];
  for (const line of lines) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((c) => c.trim()));
  }
  return rows.slice(2); // header and rule
}

/** "−2,720.5" → −2720.5e18: the doc's USD numbers, exact. */
function usd(text: string): bigint {
  const t = text.replaceAll(',', '').replace('−', '-');
  const negative = t.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? t.slice(1) : t).split('.');
  assert.ok(/^\d+$/.test(whole) && /^\d{0,18}$/.test(fraction), `not a USD amount: ${text}`);
  const x = BigInt(whole) * WAD + BigInt(fraction.padEnd(18, '0'));
  return negative ? -x : x;
}

describe('docs/options.md worked examples', function () {
  const ironCondor = (): OptionLeg[] =>
    docTable('iron-condor legs').map(([kind, side, strike, size]) => ({ isCall: kind === 'call', isLong: side === 'long', strike: usd(strike ?? ''), size: usd(size ?? '') }));
  const premium = -160n * WAD; // "for a credit of 160 USD"

  it('iron condor: legs as the doc lists them, and a vector of the shared file', function () {
    const legs = ironCondor();
    assert.equal(legs.length, 4);
    const v = vectors.strategies.find((s) => s.name.startsWith('iron condor, credit (docs/options.md'));
    assert.ok(v !== undefined);
    assert.deepEqual(legsOf(v.legs), legs);
    assert.equal(BigInt(v.premium), premium);
  });

  it('iron condor: payoff and loss at every price of the doc’s table', function () {
    const legs = ironCondor();
    const rows = docTable('iron-condor payoff');
    assert.equal(rows.length, 8);
    for (const [s, pay, loss] of rows) {
      const p = payoff(legs, usd(s ?? ''));
      assert.equal(p, usd(pay ?? ''), `payoff at ${s}`);
      assert.equal(premium - p, usd(loss ?? ''), `loss at ${s}`);
    }
  });

  it('iron condor: kind, defined risk, maxLoss, breakevens and settlement prices as the doc says', function () {
    const legs = ironCondor();
    const d = describeStrategy(legs, premium);
    const summary = new Map(docTable('iron-condor summary').map(([k, v]) => [k ?? '', v ?? '']));
    assert.equal(summary.size, 7);
    assert.equal(d.kind, summary.get('kind'));
    assert.equal(d.definedRisk, summary.get('defined risk') === 'yes');
    assert.equal(d.maxLoss, usd(summary.get('maxLoss') ?? ''));
    assert.equal(maxLoss(legs, premium), usd(summary.get('maxLoss') ?? ''));
    assert.deepEqual(d.breakevens, (summary.get('breakevens') ?? '').split(' and ').map(usd));
    for (const [key, expected] of summary) {
      const range = /^worstPrice in \[(.+), (.+)\]$/.exec(key);
      if (range === null) continue;
      assert.equal(worstPrice(legs, usd(range[1] ?? ''), usd(range[2] ?? '')), usd(expected), key);
    }
  });

  it('naked call: the scenario margins as the doc computes them', function () {
    const legs: OptionLeg[] = [{ isCall: true, isLong: false, strike: 3_500n * WAD, size: WAD }];
    const [premium, s0, sigma, t] = [-120n * WAD, 3_000n * WAD, 800_000_000_000_000_000n, 604_800n];
    const shockedSigma = 1_040_000_000_000_000_000n;
    const rows = new Map(docTable('naked-call').map(([k, v]) => [k ?? '', usd(v ?? '')]));
    assert.equal(rows.size, 6);
    // √(t / year) as docs/options.md defines it: ⌈√(t·1e36/year)⌉.
    assert.equal(sqrt(mulDiv(t, WAD * WAD, YEAR, Rounding.Up), Rounding.Up), rows.get('√(t / year)'));
    assert.equal(timeValueBound(3_600n * WAD, shockedSigma, t), rows.get('timeValueBound at 3,600, σ 104 %'));
    assert.equal(timeValueBound(3_300n * WAD, shockedSigma, t), rows.get('timeValueBound at 3,300, σ 104 %'));
    const params = { volShockBps: 3_000n, steps: 10n };
    assert.equal(scenarioLoss(legs, premium, s0, sigma, t, { ...params, shockBps: 2_000n }), rows.get('initial scenario margin (±20 %)'));
    assert.equal(scenarioLoss(legs, premium, s0, sigma, t, { ...params, shockBps: 1_000n }), rows.get('maintenance scenario margin (±10 %)'));
    assert.equal(value(legs, s0, sigma, t), rows.get('value today (3,000, σ 80 %, 7 days)'));
  });
});
