// Attacks on the engine's options (base), each a regression test of a fix in EngineOptions: a keeper
// liquidating a healthy strategy at the end of an attested range most adverse to it (a range the
// attesters' policy signs: it refuses only a range narrower than theirs); an attester quorum gone rogue
// settling a strategy at a price no chain reads; and a quote under which the trader cannot lose at
// expiry slipping past RisklessQuote as an "uncovered" strategy. And a bound
// checked, not a finding: liquidating the largest strategy on the largest scenario grid costs gas a
// block holds many times over.
import assert from 'node:assert/strict';
import { Wallet, getAddress, type Contract } from 'ethers';
import { DEVNET_MARKET_PARAMS, DEVNET_OPTIONS_PARAMS, devnetOptionsConfig, type DevnetManifest } from '../../relayer/devnet/deploy.js';
import { attestationDomain, signAttestation, type PriceAttestation } from '../../relayer/liquidation/attestation.js';
import { refusalOf } from '../../relayer/liquidation/attesterPolicy.js';
import { positionKeyOf } from '../../relayer/liquidation/engineAccount.js';
import { WAD } from '../../relayer/margin/index.js';
import { isDefinedRisk, liquidationPrice, payoff, scenarioLoss, value, type OptionLeg } from '../../relayer/margin/options.js';
import type { ReconciledPrice } from '../../relayer/oracle/reconcile.js';
import { asAdmin, engine, lock, makeRelayer, provider, setFeedAnswer, snapshot, tickUntil, trader, useSharedDevnet } from '../setup/devnet.js';
import { CHAIN_ID, MARKET_ID, chainNow, mined, minedAt, reverted, usdc } from '../setup/engineCalls.js';
import { call, freshNonce, openArgs, put, quoteDomain, signQuote, type OptionQuote } from '../setup/optionQuotes.js';

const MARKET = MARKET_ID;
const { base: BASE, arbitrum: ARBITRUM, optimism: OPTIMISM } = CHAIN_ID as Record<'base' | 'arbitrum' | 'optimism', bigint>;
const CHAINS = [OPTIMISM, BASE, ARBITRUM];
const usd = (dollars: bigint): bigint => dollars * WAD;
const HOUR = 3_600n;
const WEEK = 7n * 24n * HOUR;
const { sigma: SIGMA, volShockBps, scenarioSteps, maintenanceScenarioBps } = DEVNET_OPTIONS_PARAMS;
const MAINTENANCE = { shockBps: BigInt(maintenanceScenarioBps), volShockBps: BigInt(volShockBps), steps: BigInt(scenarioSteps) };
const NAKED_CALL: readonly OptionLeg[] = [call('short', 3_000n)];

const struct = (a: PriceAttestation) => ({ ...a, chains: [...a.chains] });

describe('options on the engine (base): attacks by keepers, quoters and traders', function () {
  this.timeout(60_000);
  const devnet = useSharedDevnet();
  let undoCredits: (() => Promise<void>) | undefined;
  let t0: string;

  // Credited once for the file: trader 0's position 1: 240 USDC, position 3: 600 USDC, from arbitrum.
  before(async function () {
    this.timeout(60_000);
    const m = devnet().manifest;
    t0 = getAddress(m.accounts.traders[0]?.address ?? '');
    undoCredits = await snapshot(m);
    const { relayer, store } = makeRelayer(m);
    await lock(m, 'arbitrum', { amount: usdc(240n), positionId: 1n });
    await lock(m, 'arbitrum', { amount: usdc(600n), positionId: 3n });
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 2);
    await store.close();
  });

  after(async () => {
    await undoCredits?.();
  });

  const m = (): DevnetManifest => devnet().manifest;
  const asTrader = (index = 0): Contract => engine(m(), trader(m(), 'base', index));
  const asKeeper = (): Contract => engine(m(), new Wallet(m().accounts.relayer.privateKey, provider(m(), 'base')));
  const marketMaker = (): Wallet => new Wallet(m().accounts.marketMaker.privateKey);
  const key = (positionId: bigint): string => positionKeyOf(t0, positionId);

  async function quote(o: Partial<OptionQuote>): Promise<OptionQuote> {
    const now = await chainNow(m());
    return { trader: t0, positionId: 3n, market: MARKET, expiry: now + WEEK, legs: NAKED_CALL, premium: usd(-100n), deadline: now + 600n, nonce: freshNonce(), ...o };
  }
  const signed = async (q: OptionQuote) => openArgs(q, await signQuote(q, marketMaker(), quoteDomain(BASE, m().chains.base?.contracts.engine as string)));
  const open = async (q: OptionQuote) => minedAt(m(), asTrader(), 'openStrategy', ...(await signed(q)));

  const attestationsAddress = (): string => m().chains.base?.contracts.attestations as string;
  const sign = (a: PriceAttestation) => signAttestation(a, m().accounts.attesters.slice(0, 2).map((w) => new Wallet(w.privateKey)), attestationDomain(BASE, attestationsAddress()));
  /** Base's own feed at `median`, and an attestation of [low, high] around it, stamped now. */
  async function attested(low: bigint, median: bigint, high: bigint): Promise<PriceAttestation> {
    await setFeedAnswer(m(), ['base'], (median * 10n ** 8n) / WAD);
    const now = await chainNow(m());
    return { market: MARKET, low, median, high, timestamp: now, chains: CHAINS, deadline: now + 60n };
  }

  it('liquidates a strategy only when it breaches at the price of the attested range best for it, and closes it there: a range widened by a keeper does not liquidate a healthy one', async () => {
    // A naked call (−100 credit) on 600 USDC, a week out.
    const q = await quote({});
    await open(q);
    const k = key(3n);

    // Every chain reads 3 120 to 3 140: the strategy's margin (600) covers the maintenance scenario
    // margin around every one of those prices (at most ~553 at 3 140).
    const own = { low: usd(3_120n), median: usd(3_130n), high: usd(3_140n) };
    const honest = await attested(own.low, own.median, own.high);
    const t = q.expiry - honest.timestamp;
    assert.ok(scenarioLoss(NAKED_CALL, q.premium, own.high, SIGMA, t, MAINTENANCE) < usd(600n));
    assert.equal((await reverted(asKeeper(), 'liquidateStrategy', k, struct(honest), await sign(honest))).name, 'NotLiquidatable');

    // A keeper asks for the same range with its high 2 % higher (3 202.8). The attesters' policy
    // refused only a range narrower than its own (a perp is liquidated at the end best for its
    // trader, so a wider range can only spare one); it now refuses one much wider too. Signed all
    // the same (a rogue attester quorum, the engine's last line), around that high the maintenance
    // scenario margin is ~625: a strategy judged at the range's end worst for it would be liquidated
    // at a price no chain reads, paying the penalty (half of it to the keeper) and closed at that price.
    const widened = { ...(await attested(own.low, own.median, (own.high * 102n) / 100n)) };
    const view = {
      marketId: MARKET, own: { ok: true, ...own, spreadBps: 64n, sources: [], excluded: [] } as ReconciledPrice, now: widened.timestamp,
      maxDeviationBps: BigInt(DEVNET_MARKET_PARAMS.maxDeviationBps), maxTtlSeconds: 60n, chainIds: CHAINS, domain: attestationDomain(BASE, attestationsAddress()),
    };
    assert.match(refusalOf(widened, view) ?? '', /the high .* is above this attester's .*: it would settle an option at a price no agreeing chain gives/, 'an honest attester does not sign the widened range');
    assert.equal(refusalOf(honest, view), null, 'it signs its own');
    assert.ok(scenarioLoss(NAKED_CALL, q.premium, widened.high, SIGMA, t, MAINTENANCE) > usd(600n));
    // Judged where the call is worth most to its trader — the low — it is healthy.
    assert.equal(liquidationPrice(NAKED_CALL, widened.low, widened.high, SIGMA, t), widened.low);
    const r = await reverted(asKeeper(), 'liquidateStrategy', k, struct(widened), await sign(widened));
    assert.equal(r.name, 'NotLiquidatable');
    assert.equal(r.args[0], usd(600n));
    // (the chain's T is that of the call's block, a few seconds below t: the scenario margin within a wei or so)
    const atLow = scenarioLoss(NAKED_CALL, q.premium, widened.low, SIGMA, t, MAINTENANCE);
    assert.ok((r.args[1] as bigint) <= atLow && atLow - (r.args[1] as bigint) < usd(1n) / 1000n, `maintenance ${r.args[1]} against ${atLow} at the low`);

    // When every chain reads a price at which it breaches (3 290 to 3 310), it is liquidated, and
    // closed at the range's price best for its trader: the low.
    const a = await attested(usd(3_290n), usd(3_300n), usd(3_310n));
    const { logs, timestamp } = await minedAt(m(), asKeeper(), 'liquidateStrategy', k, struct(a), await sign(a));
    const liquidated = logs.find((l) => l.name === 'StrategyLiquidated');
    const v = value(NAKED_CALL, a.low, SIGMA, q.expiry - timestamp);
    assert.deepEqual([liquidated?.args.getValue('price'), liquidated?.args.getValue('value'), liquidated?.args.getValue('penalty')], [a.low, v, (usd(3_290n) + 99n) / 100n]);
    assert.ok(v > value(NAKED_CALL, a.high, SIGMA, q.expiry - timestamp));
  });

  it('judges a strategy whose value peaks inside the range at that strike: a short straddle at the money', async () => {
    // Short 0.2 of the 3 000 call and of the 3 000 put for a credit of 20, on 240 USDC.
    const straddle: readonly OptionLeg[] = [call('short', 3_000n, WAD / 5n), put('short', 3_000n, WAD / 5n)];
    const q = await quote({ positionId: 1n, legs: straddle, premium: usd(-20n) });
    await open(q);
    // The volatility triples: the straddle's time value alone breaches its maintenance, at every price.
    await asAdmin(m(), 'setVolatility', [MARKET, DEVNET_OPTIONS_PARAMS.volMax]);
    const a = await attested(usd(2_980n), usd(3_000n), usd(3_020n));
    assert.equal(liquidationPrice(straddle, a.low, a.high, DEVNET_OPTIONS_PARAMS.volMax, q.expiry - a.timestamp), usd(3_000n));
    const { logs, timestamp } = await minedAt(m(), asKeeper(), 'liquidateStrategy', key(1n), struct(a), await sign(a));
    const liquidated = logs.find((l) => l.name === 'StrategyLiquidated');
    assert.deepEqual([liquidated?.args.getValue('price'), liquidated?.args.getValue('value')], [usd(3_000n), value(straddle, usd(3_000n), DEVNET_OPTIONS_PARAMS.volMax, q.expiry - timestamp)]);
  });

  it('settles only with an attested range no wider than agreeing chains can give: a rogue attester quorum cannot settle a strategy at a price no chain reads', async () => {
    // docs/options.md's iron condor (credit 160) on 240 USDC, expiring in an hour.
    const condor: readonly OptionLeg[] = [put('long', 2_600n, 2n * WAD), put('short', 2_800n, 2n * WAD), call('short', 3_200n, 2n * WAD), call('long', 3_400n, 2n * WAD)];
    const q = await quote({ positionId: 1n, legs: condor, premium: usd(-160n), expiry: (await chainNow(m())) + HOUR });
    await open(q);
    await provider(m(), 'base').send('evm_increaseTime', [Number(HOUR + 30n)]);
    // Every chain reads 3 000, where the condor pays 0. The attesters (a quorum gone rogue: the on-chain
    // check holds only the median to base's own oracle) sign a low of 2 500: the worst price for the
    // trader in that range pays −400, the whole 240 of collateral seized and the credit taken back.
    const rogue = await attested(usd(2_500n), usd(3_000n), usd(3_000n));
    assert.equal(payoff(condor, rogue.low), usd(-400n));
    const r = await reverted(asKeeper(), 'settleExpired', key(1n), struct(rogue), await sign(rogue));
    assert.deepEqual([r.name, ...r.args], ['AttestedRangeTooWide', rogue.low, rogue.median, rogue.high]);
    // A reconciliation keeps sources within d = 2 % of the median it filters on, so the ends it reports
    // are within median·(1 − 2d) and median / (1 − 2d): 2 880 and 3 125 here. A high of 3 126 is refused;
    // 2 880 to 3 120 settles (both ends pay 0: the trader keeps its credit).
    const beyond = await attested(usd(2_880n), usd(3_000n), usd(3_126n));
    assert.equal((await reverted(asKeeper(), 'settleExpired', key(1n), struct(beyond), await sign(beyond))).name, 'AttestedRangeTooWide');
    const widest = await attested(usd(2_880n), usd(3_000n), usd(3_120n));
    const logs = await mined(m(), asKeeper(), 'settleExpired', key(1n), struct(widest), await sign(widest));
    assert.ok(logs.some((l) => l.name === 'StrategySettled'));
  });

  it('refuses a quote under which the trader cannot lose at expiry even when its puts are not covered (RisklessQuote)', async () => {
    // Long the 3 000 put, short 1.1 of the 1 000 put: the puts are not covered (net −0.1), so it is not
    // defined risk, yet it pays at least 0 at every price (at 0: 3 000 − 1 100). Quoted as a credit of
    // 10 (a pricing sign gone wrong), the pool would pay 10 for a strategy that can never lose at expiry.
    const legs: readonly OptionLeg[] = [put('long', 3_000n), put('short', 1_000n, (11n * WAD) / 10n)];
    assert.equal(isDefinedRisk(legs), false);
    for (const s of [0n, usd(1_000n), usd(2_000n), usd(3_000n), usd(9_000n)]) assert.ok(payoff(legs, s) >= 0n);
    const q = await quote({ positionId: 1n, legs, premium: usd(-10n), expiry: (await chainNow(m())) + HOUR });
    const r = await reverted(asTrader(), 'openStrategy', ...(await signed(q)));
    assert.deepEqual([r.name, ...r.args], ['RisklessQuote', usd(-10n)]);
    // The same strategy bought for a debit of 1 can lose it (at 3 000 and above): it opens.
    const { logs } = await open({ ...q, premium: usd(1n), nonce: freshNonce() });
    assert.equal(logs.filter((l) => l.name === 'StrategyOpened').length, 1);
  });

  it('bound, not a finding: an 8-leg uncovered strategy on a 20-step grid opens and is liquidated in well under a million gas', async () => {
    await asAdmin(m(), 'setOptionsConfig', [MARKET, { ...devnetOptionsConfig(m().accounts.marketMaker.address), scenarioSteps: 20 }]);
    const legs = Array.from({ length: 8 }, (_, i) => call('short', 3_000n + 50n * BigInt(i), WAD / 10n));
    const q = await quote({ legs, premium: usd(-20n) });
    const opened = await open(q);
    await asAdmin(m(), 'setVolatility', [MARKET, DEVNET_OPTIONS_PARAMS.volMax]);
    const a = await attested(usd(2_990n), usd(3_000n), usd(3_010n));
    const liquidated = await minedAt(m(), asKeeper(), 'liquidateStrategy', key(3n), struct(a), await sign(a));
    assert.ok(liquidated.logs.some((l) => l.name === 'StrategyLiquidated'));
    assert.ok(opened.gasUsed < 1_000_000n && liquidated.gasUsed < 1_000_000n, `open ${opened.gasUsed}, liquidation ${liquidated.gasUsed} gas`);
  });
});
