// The keeper's options bookkeeping, pure: the volatility tracker (seeded with the engine's σ², one
// EWMA step per sample interval, posted only when it moved enough, not too often, clamped into the
// bounds) and the strategy book (which positions to read again, which are expired or uncovered, a
// failed read kept pending).
import assert from 'node:assert/strict';
import { ZeroHash } from 'ethers';
import type { ChainClient } from '../../relayer/chains/client.js';
import { engineIface } from '../../relayer/liquidation/engineAbi.js';
import { DEFAULT_LAMBDA, WAD, ewmaVariance, sqrtWad } from '../../relayer/margin/index.js';
import { StrategyBook, type OpenStrategy } from '../../relayer/options/strategyBook.js';
import { VolatilityTracker } from '../../relayer/options/volatilityTracker.js';
import { call, put } from '../setup/optionQuotes.js';

const pct = (p: bigint): bigint => (p * WAD) / 100n;
const usd = (d: bigint): bigint => d * WAD;
const BOUNDS = { volMin: pct(10n), volMax: pct(300n) };
const policy = { lambda: DEFAULT_LAMBDA, sampleSeconds: 60, minChangeBps: 500, minIntervalSeconds: 120 };

describe('options keeper: the volatility tracker', () => {
  it('seeds the variance with the engine\'s σ², then takes one EWMA step per median at least sampleSeconds apart', () => {
    const t = new VolatilityTracker(policy);
    const seeded = t.sample('ETH-USD', usd(3_000n), 1_000n, pct(80n));
    assert.deepEqual([seeded.taken, seeded.estimate.variance, seeded.estimate.sigma, seeded.estimate.seeded], [true, pct(64n), pct(80n), true]);
    assert.equal(t.sample('ETH-USD', usd(3_100n), 1_059n, pct(80n)).taken, false, '59 s later: too soon');
    const next = t.sample('ETH-USD', usd(3_015n), 1_061n, pct(80n));
    const v = ewmaVariance(pct(64n), usd(3_000n), usd(3_015n), 61n, DEFAULT_LAMBDA);
    assert.deepEqual([next.taken, next.estimate.variance, next.estimate.sigma, next.estimate.price, next.estimate.at], [true, v, sqrtWad(v), usd(3_015n), 1_061n]);
    // The skipped median was not a sample: the next return is measured from 3 015 at 1 061.
    const third = t.sample('ETH-USD', usd(3_015n), 1_200n, pct(80n));
    assert.equal(third.estimate.variance, ewmaVariance(v, usd(3_015n), usd(3_015n), 139n, DEFAULT_LAMBDA));
    // Markets are apart.
    assert.equal(t.sample('BTC-USD', usd(60_000n), 1_200n, pct(50n)).estimate.variance, pct(25n));
  });

  it('proposes σ only when it moved by minChangeBps of the engine\'s, minIntervalSeconds after the last post, clamped into the bounds', () => {
    const t = new VolatilityTracker(policy);
    assert.equal(t.proposal('ETH-USD', pct(80n), BOUNDS, 0n), null, 'nothing sampled');
    t.sample('ETH-USD', usd(3_000n), 0n, pct(80n));
    const still = t.proposal('ETH-USD', pct(80n), BOUNDS, 0n);
    assert.ok(still !== null && !still.post);
    assert.match(still.why, /moved 0 bps, less than minChangeBps 500/);
    // +0.5 % in a minute: σ ≈ 117 %, first post allowed at once.
    t.sample('ETH-USD', usd(3_015n), 61n, pct(80n));
    const up = t.proposal('ETH-USD', pct(80n), BOUNDS, 61n);
    assert.ok(up?.post === true && up.sigma > pct(110n) && up.sigma < pct(120n), JSON.stringify(up, (_k, v: unknown) => String(v)));
    // Compared with the engine's σ, whatever the estimate was before: within 5 % of it, no post.
    const near = t.proposal('ETH-USD', (up.sigma * 96n) / 100n, BOUNDS, 61n);
    assert.ok(near !== null && !near.post && /less than minChangeBps/.test(near.why));
    t.posted('ETH-USD', 61n);
    // A jump of 10 %: σ far above 300 %, clamped; but 61 s after the post, the interval holds it back.
    t.sample('ETH-USD', usd(3_316n), 122n, up.sigma);
    const held = t.proposal('ETH-USD', up.sigma, BOUNDS, 122n);
    assert.ok(held !== null && !held.post);
    assert.equal(held.sigma, BOUNDS.volMax);
    assert.match(held.why, /posted 61 s ago, less than the 120 s between posts/);
    const later = t.proposal('ETH-USD', up.sigma, BOUNDS, 181n);
    assert.deepEqual(later, { post: true, sigma: BOUNDS.volMax });
    // At the bound already: nothing to post.
    assert.equal(t.proposal('ETH-USD', BOUNDS.volMax, BOUNDS, 500n)?.post, false);
    // Below the floor: the floor.
    const calm = new VolatilityTracker(policy);
    calm.sample('ETH-USD', usd(3_000n), 0n, pct(10n));
    for (let at = 60n; at <= 6_000n; at += 60n) calm.sample('ETH-USD', usd(3_000n), at, pct(10n));
    assert.deepEqual(calm.proposal('ETH-USD', pct(50n), BOUNDS, 6_000n), { post: true, sigma: pct(10n) });
  });

  it('moves σ by at most the engine\'s step per post (in steps toward the estimate), and waits out the engine\'s interval too', () => {
    const t = new VolatilityTracker({ lambda: DEFAULT_LAMBDA, sampleSeconds: 60, minChangeBps: 500, minIntervalSeconds: 30 });
    t.sample('ETH-USD', usd(3_000n), 0n, pct(80n));
    t.sample('ETH-USD', usd(3_300n), 60n, pct(80n));
    const engine = { ...BOUNDS, maxVolStepBps: 2_000n, minVolInterval: 120n };
    // The estimate is far above 300 %: one step of 20 % of the engine's σ, rounded toward it.
    assert.deepEqual(t.proposal('ETH-USD', pct(80n), engine, 60n), { post: true, sigma: pct(96n) });
    assert.deepEqual(t.proposal('ETH-USD', 333n, engine, 60n), { post: true, sigma: 399n }, '333 + ⌊66.6⌋: the engine measures 66 ≤ 66.6');
    t.posted('ETH-USD', 60n);
    // Our interval is 30 s, the engine's 120 s: the longer holds.
    const held = t.proposal('ETH-USD', pct(96n), engine, 150n);
    assert.ok(held !== null && !held.post && /less than the 120 s between posts/.test(held.why));
    assert.equal(t.proposal('ETH-USD', pct(96n), engine, 180n)?.post, true);
    // Without a step limit (0), straight to the bound.
    assert.deepEqual(t.proposal('ETH-USD', pct(80n), { ...engine, maxVolStepBps: 0n }, 500n), { post: true, sigma: BOUNDS.volMax });
  });
});

const strategy = (key: string, o: Partial<OpenStrategy> = {}): OpenStrategy => ({
  positionKey: key, market: '0xaa', expiry: 1_000n, premium: usd(-100n), legs: [call('short', 3_000n)], definedRisk: false, ...o,
});

describe('options keeper: the strategy book', () => {
  it('reads again every position with a strategy event, and a PositionChanged only of one it holds', () => {
    const book = new StrategyBook();
    book.apply('0x01', strategy('0x01'));
    book.changed(['0x02'], ['0x01', '0x03']);
    assert.deepEqual([...(book as unknown as { pending: Set<string> }).pending].sort(), ['0x01', '0x02'], 'a perpetual\'s PositionChanged (0x03) is not read');
  });

  it('lists a market\'s expired strategies oldest first, and its uncovered ones not expired', () => {
    const book = new StrategyBook();
    book.apply('0x01', strategy('0x01', { expiry: 900n }));
    book.apply('0x02', strategy('0x02', { expiry: 800n, definedRisk: true, legs: [put('long', 2_600n), put('short', 2_800n)] }));
    book.apply('0x03', strategy('0x03', { expiry: 2_000n }));
    book.apply('0x04', strategy('0x04', { expiry: 2_000n, definedRisk: true }));
    book.apply('0x05', strategy('0x05', { expiry: 100n, market: '0xbb' }));
    assert.deepEqual(book.expired('0xaa', 1_000n).map((s) => s.positionKey), ['0x02', '0x01']);
    assert.deepEqual(book.expired('0xaa', 900n).map((s) => s.positionKey), ['0x02', '0x01'], 'at expiry itself');
    assert.deepEqual(book.uncovered('0xaa', 1_000n).map((s) => s.positionKey), ['0x03'], 'not the defined-risk, not the expired');
    assert.deepEqual([book.count('0xaa'), book.count('0xbb'), book.size], [4, 1, 5]);
    book.apply('0x01', null);
    assert.deepEqual(book.expired('0xaa', 1_000n).map((s) => s.positionKey), ['0x02']);
  });

  it('reads pending positions in one batch; when it fails, one by one, and keeps those that still fail pending', async () => {
    const open = engineIface.encodeFunctionResult('strategyOf', ['0x' + 'aa'.repeat(32), 1_000n, usd(-100n), [[true, false, usd(3_000n), WAD]], false, usd(400n)]);
    const none = engineIface.encodeFunctionResult('strategyOf', [ZeroHash, 0n, 0n, [], false, 0n]);
    let batches = 0;
    const client = {
      // An uncovered strategy's strategyOf reverts while the engine's oracle is stale: 0x03's does here.
      calls: (reqs: { data: string }[]) => {
        batches++;
        if (reqs.some((r) => r.data.endsWith('03'))) return Promise.reject(new Error('execution reverted: OracleStale'));
        return Promise.resolve(reqs.map((r) => (r.data.endsWith('01') ? open : none)));
      },
    } as unknown as ChainClient; // only calls() is used by refresh
    const book = new StrategyBook();
    book.apply('0x' + '00'.repeat(31) + '02', strategy('0x' + '00'.repeat(31) + '02'));
    book.changed(['0x' + '00'.repeat(31) + '01', '0x' + '00'.repeat(31) + '02', '0x' + '00'.repeat(31) + '03'], []);
    const r = await book.refresh(client, '0x' + '11'.repeat(20));
    assert.deepEqual(r.failed, ['0x' + '00'.repeat(31) + '03']);
    assert.match(r.error ?? '', /OracleStale/);
    assert.equal(batches, 4, 'one batch, then each of the three');
    assert.deepEqual(book.expired('0x' + 'aa'.repeat(32), 1_000n).map((s) => [s.positionKey, s.legs]), [['0x' + '00'.repeat(31) + '01', [{ isCall: true, isLong: false, strike: usd(3_000n), size: WAD }]]]);
    assert.equal(book.size, 1, '0x…02 holds none any more');
    // The one that failed is read again on the next refresh.
    assert.deepEqual((await book.refresh(client, '0x' + '11'.repeat(20))).failed, ['0x' + '00'.repeat(31) + '03']);
  });
});
