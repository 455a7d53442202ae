// The keeper's options work end to end, through the relayer on the devnet: an iron condor funded
// from arbitrum settled at expiry at the reconciled range's worst price, its RELEASE and SEIZE
// delivered to the arbitrum vault; nothing settled while base's own oracle moved alone or the chains
// disagree (and said so), settled once they agree, within the settle window; a naked call liquidated
// after a rise and not before; the volatility posted from the reconciled medians (an EWMA checked
// against ewmaVariance here), not more often than the interval, clamped to the bounds; and with a
// sigmaRef set, a perpetual re-keyed when its maintenance rate moves with σ and liquidated at it.
import assert from 'node:assert/strict';
import { Wallet } from 'ethers';
import type { Relayer } from '../../relayer/app/relayer.js';
import { readPositions } from '../../relayer/cli/commands/positions.js';
import type { Config, RawConfig } from '../../relayer/config/schema.js';
import { DEVNET_LIQUIDATION_PENALTY_BPS, DEVNET_OPTIONS_PARAMS, devnetOptionsConfig, type DevnetManifest } from '../../relayer/devnet/deploy.js';
import { accountFromEngine } from '../../relayer/liquidation/engineAccount.js';
import type { Keeper } from '../../relayer/liquidation/keeper.js';
import { DEFAULT_LAMBDA, WAD, ewmaVariance, liquidationPlan, liquidationPrice, scaledRate, sqrtWad } from '../../relayer/margin/index.js';
import type { RelayerEvent } from '../../relayer/pipeline/events.js';
import { describeEvent } from '../../relayer/ops/logger.js';
import type { Store } from '../../relayer/store/store.js';
import { asAdmin, engine, lock, makeRelayer, minedOn, provider, setEthUsd, testConfig, tickUntil, tokenBalance, trader, useSharedDevnet } from '../setup/devnet.js';
import { CHAIN_ID, MARKET_ID, usdc } from '../setup/engineCalls.js';
import { call, put } from '../setup/optionQuotes.js';
import { baseNow, openStrategy, strategyExpiry, testKeeper, warpAll } from '../setup/strategies.js';

const usd = (dollars: bigint): bigint => dollars * WAD;
const IRON_CONDOR = [put('long', 2_600n, 2n * WAD), put('short', 2_800n, 2n * WAD), call('short', 3_200n, 2n * WAD), call('long', 3_400n, 2n * WAD)];
const CONDOR_CREDIT = usd(-160n);
const ALL = ['arbitrum', 'optimism', 'base'] as const;

interface Setup { relayer: Relayer; store: Store; keeper: Keeper; events: RelayerEvent[]; config: Config }

describe('keeper: options strategies (settlement at expiry, uncovered liquidation, volatility)', function () {
  this.timeout(180_000);
  const devnet = useSharedDevnet();

  /** A relayer and its keeper; the volatility is off unless the test turns it on (a posted σ would move the scenario margins). */
  function setup(m: DevnetManifest, volatility: Partial<NonNullable<RawConfig['keeper']>['volatility']> = { enabled: false }): Setup {
    const config = testConfig(m, (raw) => {
      if (raw.keeper !== undefined) raw.keeper.volatility = volatility;
    });
    const { relayer, store } = makeRelayer(m, { config });
    const events: RelayerEvent[] = [];
    relayer.events.on((e) => events.push(e));
    return { relayer, store, keeper: testKeeper(m, relayer, config), events, config };
  }

  /** `amount` USDC locked on arbitrum for trader 0's position, credited on base by the relayer. */
  async function credit(m: DevnetManifest, s: Setup, positionId: bigint, amount: bigint): Promise<void> {
    const locked = await lock(m, 'arbitrum', { amount, positionId });
    await tickUntil(s.relayer, async () => (await s.store.list({ status: 'delivered' })).some((r) => r.messageId === locked.lockId));
  }

  const arbUsdc = (m: DevnetManifest) => m.chains.arbitrum?.contracts.usdc as string;
  const strategyEvents = (s: Setup) => s.events.filter((e): e is Extract<RelayerEvent, { type: 'keeper.strategy' }> => e.type === 'keeper.strategy');
  const settlementsDelivered = (s: Setup, n: number) => async () => (await s.store.list({})).filter((r) => (r.kind === 'RELEASE' || r.kind === 'SEIZE') && r.status === 'delivered').length === n;

  it('settles an expired iron condor at the worst price of the reconciled range; its RELEASE and SEIZE reach the arbitrum vault', async () => {
    const m = devnet().manifest;
    const s = setup(m);
    await credit(m, s, 31n, usdc(240n));
    const key = await openStrategy(m, { positionId: 31n, legs: IRON_CONDOR, premium: CONDOR_CREDIT, expiry: (await baseNow(m)) + 120n });
    let [r] = await s.keeper.tick();
    assert.deepEqual([r?.options?.strategies, r?.options?.due, r?.options?.settled], [1, 0, []], 'indexed from its StrategyOpened, not due yet');

    await warpAll(m, 125);
    await prices(m, [3_290n, 3_300n, 3_310n]);
    const trader0 = m.accounts.traders[0]?.address as string;
    const [traderBefore, insuranceBefore] = await Promise.all([tokenBalance(m, 'arbitrum', arbUsdc(m), trader0), tokenBalance(m, 'arbitrum', arbUsdc(m), m.accounts.insuranceFund.address)]);
    [r] = await s.keeper.tick();
    assert.deepEqual([r?.range?.low, r?.range?.high], [usd(3_290n), usd(3_310n)]);
    assert.deepEqual([r?.options?.due, r?.options?.settled, r?.options?.refused], [1, [key], []]);
    assert.equal(await strategyExpiry(m, key), 0n, 'settled on the engine');
    const [settled] = strategyEvents(s);
    // In [3 290, 3 310] the worst for the trader is the high: the short 3 200 call pays 2 × 110.
    assert.deepEqual([settled?.ok, settled?.action, settled?.price, settled?.payoff, settled?.late], [true, 'settle', usd(3_310n), usd(-220n), undefined]);
    assert.equal(describeEvent(settled as RelayerEvent).level, 'info');

    // 240 of collateral + 160 of credit − 220 paid: 180 RELEASEd, the loss of 60 SEIZEd.
    await tickUntil(s.relayer, settlementsDelivered(s, 2));
    assert.equal(await tokenBalance(m, 'arbitrum', arbUsdc(m), trader0), traderBefore + usdc(240n) - usdc(60n));
    assert.equal(await tokenBalance(m, 'arbitrum', arbUsdc(m), m.accounts.insuranceFund.address), insuranceBefore + usdc(60n));
    const summary = s.keeper.lastTick().markets[0];
    assert.deepEqual([summary?.sigma, summary?.strategies, summary?.strategiesDue, summary?.strategiesSettled], [DEVNET_OPTIONS_PARAMS.sigma, 1, 1, 1]);
    [r] = await s.keeper.tick();
    assert.deepEqual([r?.options?.strategies, r?.options?.due, r?.options?.settled], [0, 0, []], 'nothing to settle twice');
  });

  it('settles nothing while the chains disagree or base\'s own oracle moved alone (OracleDeviation), says why, and settles within the window once they agree', async () => {
    const m = devnet().manifest;
    const s = setup(m);
    await credit(m, s, 32n, usdc(240n));
    const expiry = (await baseNow(m)) + 60n;
    const key = await openStrategy(m, { positionId: 32n, legs: IRON_CONDOR, premium: CONDOR_CREDIT, expiry });
    await s.keeper.tick();
    await warpAll(m, 65);

    // No agreeing quorum: arbitrum 3 000, optimism 3 300, base 3 100.
    await prices(m, [3_000n, 3_300n, 3_100n]);
    let [r] = await s.keeper.tick();
    assert.equal(r?.range, null);
    assert.deepEqual([r?.options?.due, r?.options?.settled], [1, []]);
    const blocked = s.events.filter((e) => e.type === 'keeper.tick').at(-1);
    assert.ok(blocked?.type === 'keeper.tick' && !blocked.ok && blocked.strategiesDue === 1);
    assert.match(describeEvent(blocked).msg, /^no reconciled price, nobody liquidated, 1 expired strategy not settled: no-agreeing-quorum/);
    assert.equal(s.keeper.lastTick().markets[0]?.strategiesDue, 1);

    // Base's own oracle moved alone: the other two agree on 3 000, base says 3 100 (excluded), and the engine refuses the range.
    await setEthUsd(m, ['optimism'], 3_000n);
    [r] = await s.keeper.tick();
    assert.equal(r?.range?.median, usd(3_000n));
    assert.deepEqual(r?.range?.excluded.map((e) => [e.chain, e.reason]), [['base', 'deviation']]);
    assert.deepEqual(r?.options?.settled, []);
    assert.deepEqual(r?.options?.refused, [{ positionKey: key, action: 'settle', reason: `OracleDeviation(${usd(3_100n)}, ${usd(3_000n)})` }]);
    const refused = strategyEvents(s).at(-1);
    assert.ok(refused !== undefined && !refused.ok && refused.positionKey === key);
    assert.equal(describeEvent(refused).level, 'warn');
    assert.match(describeEvent(refused).msg, /^expired strategy not settled: OracleDeviation/);
    assert.equal(await strategyExpiry(m, key), expiry, 'still open');
    assert.equal((await s.store.list({})).filter((x) => x.kind !== 'CREDIT').length, 0, 'nothing sent: the refusal was simulated');

    // Base back in line: settled at 3 000 (payoff 0), within the window: the whole 240 RELEASEd, the credit of 160 paid on base.
    await setEthUsd(m, ['base'], 3_000n);
    [r] = await s.keeper.tick();
    assert.deepEqual(r?.options?.settled, [key]);
    const settled = strategyEvents(s).at(-1);
    assert.deepEqual([settled?.ok, settled?.price, settled?.payoff, settled?.late], [true, usd(3_000n), 0n, undefined]);
    assert.ok((r?.range?.median ?? 0n) > 0n && (await baseNow(m)) <= expiry + BigInt(DEVNET_OPTIONS_PARAMS.settleWindow));
    const before = await tokenBalance(m, 'arbitrum', arbUsdc(m), m.accounts.traders[0]?.address as string);
    await tickUntil(s.relayer, settlementsDelivered(s, 1));
    assert.equal(await tokenBalance(m, 'arbitrum', arbUsdc(m), m.accounts.traders[0]?.address as string), before + usdc(240n));
  });

  /** ETH-USD on arbitrum, optimism and base, whole dollars. */
  async function prices(m: DevnetManifest, [arbitrum, optimism, base]: [bigint, bigint, bigint]): Promise<void> {
    await setEthUsd(m, ['arbitrum'], arbitrum);
    await setEthUsd(m, ['optimism'], optimism);
    await setEthUsd(m, ['base'], base);
  }

  it('liquidates a naked call after a rise, judged at the price of the range best for it, and not before', async () => {
    const m = devnet().manifest;
    const s = setup(m);
    await credit(m, s, 33n, usdc(600n));
    // Margin 600 (collateral, + 100 credited, − the premium of 100); the ±10 % maintenance grid asks ~599 around 3 180.
    const key = await openStrategy(m, { positionId: 33n, legs: [call('short', 3_000n)], premium: usd(-100n), expiry: (await baseNow(m)) + 7n * 86_400n });
    let [r] = await s.keeper.tick();
    assert.deepEqual([r?.options?.strategies, r?.options?.liquidated, r?.options?.refused], [1, [], []], 'healthy at 3 000: not even tried');
    // In [3 150, 3 215] it breaches at the high (~640) but not at the low (~564), where it stands best: the engine would refuse, so nothing is tried.
    await prices(m, [3_150n, 3_180n, 3_215n]);
    [r] = await s.keeper.tick();
    assert.deepEqual([r?.range?.low, r?.range?.high], [usd(3_150n), usd(3_215n)]);
    assert.deepEqual([r?.options?.liquidated, r?.options?.refused], [[], []], 'not a candidate: the TS rule is the engine\'s');

    await prices(m, [3_270n, 3_300n, 3_330n]);
    [r] = await s.keeper.tick();
    assert.deepEqual([r?.options?.liquidated, r?.options?.refused], [[key], []]);
    assert.equal(await strategyExpiry(m, key), 0n);
    const [liquidated] = strategyEvents(s);
    assert.equal(liquidated?.action, 'liquidate');
    assert.equal(liquidated?.price, usd(3_270n), 'the low: a short call is worth most to its trader there');
    assert.equal(liquidated?.penalty, usd(3_270n) / 100n, '1 % of the uncovered notional');
    // Its RELEASE (what the trader keeps) and SEIZE reach arbitrum; the keeper's share of the penalty stays on base.
    await tickUntil(s.relayer, settlementsDelivered(s, 2));
    const keeperShare = (await engine(m).getFunction('keeperRewards')(m.accounts.relayer.address, CHAIN_ID.arbitrum, arbUsdc(m))) as bigint;
    assert.equal(keeperShare, usd(3_270n) / 100n / 2n / 10n ** 12n);
  });

  it('posts the volatility of the reconciled medians: the EWMA of their returns, at most every interval, clamped to the bounds and the engine\'s step', async () => {
    const m = devnet().manifest;
    const s = setup(m, { lambda: 0.94, sampleSeconds: 60, minChangeBps: 500, minIntervalSeconds: 120 });
    await s.relayer.tick(); // takes the gas key's lease, under which the keeper sends
    const sigmaOf = async () => ((await engine(m).getFunction('optionsConfig')(MARKET_ID)) as { sigma: bigint }).sigma;
    const sigma0 = await sigmaOf();
    let variance = (sigma0 * sigma0 + WAD - 1n) / WAD;
    let last: { price: bigint; at: bigint } | null = null;
    const posts: { at: bigint; sigma: bigint }[] = [];
    const { volMin, volMax, maxVolStepBps } = DEVNET_OPTIONS_PARAMS;
    // 3 000 → +0.5 % → −0.5 % → +10 % → flat, a minute apart.
    for (const [i, price] of [3_000n, 3_015n, 3_000n, 3_300n, 3_300n].entries()) {
      if (i > 0) await warpAll(m, 61);
      await setEthUsd(m, ALL, price);
      const before = await sigmaOf();
      const [r] = await s.keeper.tick();
      const v = r?.options?.volatility;
      assert.ok(v !== undefined && v !== null && v.sample !== null, `tick ${i} sampled`);
      assert.equal(v.sample.price, usd(price));
      // Computed here from the samples alone: seeded with the engine's σ², then one EWMA step per minute.
      if (last !== null) variance = ewmaVariance(variance, last.price, v.sample.price, v.sample.at - last.at, DEFAULT_LAMBDA);
      last = v.sample;
      assert.equal(v.variance, variance, `tick ${i}: the variance`);
      assert.equal(v.estimate, sqrtWad(variance));
      const bounded = v.estimate < volMin ? volMin : v.estimate > volMax ? volMax : v.estimate;
      const step = (before * BigInt(maxVolStepBps)) / 10_000n;
      const clamped = bounded > before + step ? before + step : bounded < before - step ? before - step : bounded;
      if (v.posted !== null) posts.push({ at: v.sample.at, sigma: v.posted });
      if (v.posted !== null) assert.equal(v.posted, clamped, `tick ${i}: σ posted clamped into [volMin, volMax] and within the engine's step`);
      assert.equal(await sigmaOf(), posts.at(-1)?.sigma ?? sigma0, `tick ${i}: the engine's σ`);
    }
    // Posted after the first return (an estimate of ~117 %: one step of 20 %, to 96 %), not after the
    // second (61 s later: inside the interval), after the jump one more step (to 115.2 %, not 300 %),
    // and not again when nothing moved.
    assert.deepEqual(posts.map((p) => p.sigma), [96n * 10n ** 16n, 1152n * 10n ** 15n]);
    assert.ok((posts[1]?.at ?? 0n) - (posts[0]?.at ?? 0n) >= 120n);
    const logged = s.events.filter((e) => e.type === 'keeper.volatility');
    assert.equal(logged.length, 2);
    assert.ok(logged.every((e) => describeEvent(e).level === 'info'));
    assert.match(describeEvent(logged[1] as RelayerEvent).msg, /^volatility posted: σ 115\.20 % \(was 96\.00 %\)$/);
  });

  it('does not post σ with a key the engine does not take (NotVolUpdater): says why, once an interval, not every tick', async () => {
    const m = devnet().manifest;
    const s = setup(m, { minIntervalSeconds: 120 });
    await s.relayer.tick(); // takes the gas key's lease, under which the keeper sends
    await asAdmin(m, 'setVolUpdater', [m.accounts.deployer.address]);
    await setEthUsd(m, ALL, 3_000n);
    await s.keeper.tick();
    await warpAll(m, 61);
    await setEthUsd(m, ALL, 3_015n);
    let [r] = await s.keeper.tick();
    assert.equal(r?.options?.volatility?.posted, null);
    assert.equal(r?.options?.volatility?.why, `NotVolUpdater(${m.accounts.relayer.address})`);
    [r] = await s.keeper.tick();
    assert.match(r?.options?.volatility?.why ?? '', /less than the 120 s between posts/, 'not tried again at once');
    const refused = s.events.filter((e) => e.type === 'keeper.volatility');
    assert.equal(refused.length, 1);
    assert.equal(describeEvent(refused[0] as RelayerEvent).level, 'warn');
    assert.equal(((await engine(m).getFunction('optionsConfig')(MARKET_ID)) as { sigma: bigint }).sigma, DEVNET_OPTIONS_PARAMS.sigma);
  });

  it('with a sigmaRef set, re-keys a perpetual when the σ it posts moves the maintenance rate, and liquidates it at the scaled rate', async () => {
    const m = devnet().manifest;
    const s = setup(m, { minIntervalSeconds: 0 });
    await credit(m, s, 34n, usdc(400n));
    const t0 = trader(m, 'base', 0);
    await minedOn(m, 'base', engine(m, new Wallet(t0.privateKey, provider(m, 'base'))).getFunction('increase').send(34n, MARKET_ID, 0, WAD));
    // σ 80 % is the reference: the rate stays 5 % until σ moves.
    const sigmaRef = DEVNET_OPTIONS_PARAMS.sigma;
    // No step limit here: σ jumps to its bound in one post (the step is tested on its own).
    await asAdmin(m, 'setOptionsConfig', [MARKET_ID, { ...devnetOptionsConfig(m.accounts.marketMaker.address, { sigmaRef }), maxVolStepBps: 0 }]);
    await setEthUsd(m, ALL, 3_000n);
    let [r] = await s.keeper.tick();
    assert.equal(s.keeper.indexed, 1);
    const key = (await engine(m).getFunction('positionKeyOf')(t0.address, 34n)) as string;
    const account = accountFromEngine(await engine(m).getFunction('accountOf')(key));
    // 1 ETH long at 3 000 on 400 USDC: liquidated at 2 740 at 5 %, at 2 860 at 9 %.
    assert.equal(liquidationPrice(account, 5n * 10n ** 16n), 2_740n * WAD);

    // −7.3 % in a minute: not a candidate at 5 %, but σ jumps (clamped to 300 %) and the rate with it: re-keyed at once.
    await warpAll(m, 61);
    await setEthUsd(m, ALL, 2_780n);
    [r] = await s.keeper.tick();
    assert.deepEqual([r?.candidates, r?.liquidated], [[], []]);
    assert.equal(r?.options?.volatility?.posted, DEVNET_OPTIONS_PARAMS.volMax);
    const rate = scaledRate(5n * 10n ** 16n, DEVNET_OPTIONS_PARAMS.volMax, sigmaRef, DEVNET_OPTIONS_PARAMS.mmrMin, DEVNET_OPTIONS_PARAMS.mmrMax);
    assert.equal(rate, 9n * 10n ** 16n);
    assert.equal(await engine(m).getFunction('maintenanceRate')(MARKET_ID), rate);
    assert.equal(r?.rekeyed, 1);
    // isorelay positions shows the scaled liquidation price too.
    const rows = await readPositions(s.config, t0.address);
    assert.equal(rows.find((x) => x.positionId === 34n)?.exposure?.liquidationPrice, liquidationPrice(account, rate));

    [r] = await s.keeper.tick();
    assert.deepEqual(r?.candidates, [key]);
    const plan = liquidationPlan(account, rate, BigInt(DEVNET_LIQUIDATION_PENALTY_BPS) * 10n ** 14n, usd(2_780n));
    if (plan.full) assert.deepEqual(r?.liquidated, [key]);
    else {
      assert.deepEqual(r?.reduced, [key]);
      const [p] = (await engine(m).getFunction('positionOf')(key)) as unknown as [{ size: bigint }];
      assert.equal(p.size, WAD - plan.closeSize, 'closed as the 9 % plan says');
    }
  });
});
