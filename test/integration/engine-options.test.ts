// Options on the engine (base), margined by collateral credited from arbitrum: a strategy opens on
// the market maker's signed quote — an iron condor on exactly its maximum loss, a naked call on its
// scenario margin — and every quote that does not match is refused; the position is frozen while the
// strategy is open; after expiry it settles at the attested range's worst price (RELEASE and SEIZE
// queued), never with an attestation a liquidation would refuse; an uncovered strategy is liquidated
// below its maintenance scenario margin; the volatility updater; perps' volatility-scaled maintenance.
import assert from 'node:assert/strict';
import { Wallet, ZeroAddress, ZeroHash, getAddress, id, type Contract, type LogDescription } from 'ethers';
import { DEVNET_OPTIONS_PARAMS, devnetOptionsConfig, type DevnetManifest } from '../../relayer/devnet/deploy.js';
import { attestationDigest, attestationDomain, signAttestation, type PriceAttestation } from '../../relayer/liquidation/attestation.js';
import { accountFromEngine, positionKeyOf } from '../../relayer/liquidation/engineAccount.js';
import { Side, WAD, equity, liquidationPlan, maintenanceMargin } from '../../relayer/margin/index.js';
import { maxLoss, payoff, scaledRate, scenarioLoss, value, worstPrice, type OptionLeg } from '../../relayer/margin/options.js';
import { MessageKind } from '../../relayer/messages/codec.js';
import { asAdmin, engine, lock, makeRelayer, provider, setFeedAnswer, snapshot, tickUntil, tokenBalance, trader, useSharedDevnet } from '../setup/devnet.js';
import { CHAIN_ID, FEES, LONG, MARKET_ID, advance, chainNow, mined, minedAt, reverted, usdc } from '../setup/engineCalls.js';
import { call, freshNonce, legsHash, openArgs, put, quoteDomain, quoteDomainSeparator, signQuote, type OptionQuote } from '../setup/optionQuotes.js';

const MARKET = MARKET_ID;
const { base: BASE, arbitrum: ARBITRUM, optimism: OPTIMISM } = CHAIN_ID as Record<'base' | 'arbitrum' | 'optimism', bigint>;
const CHAINS = [OPTIMISM, BASE, ARBITRUM];
const usd = (dollars: bigint): bigint => dollars * WAD;
const USDC_SCALE = 10n ** 12n;
const HOUR = 3_600n;
const { sigma: SIGMA, volShockBps, scenarioSteps } = DEVNET_OPTIONS_PARAMS;
const scenario = (shockBps: number) => ({ shockBps: BigInt(shockBps), volShockBps: BigInt(volShockBps), steps: BigInt(scenarioSteps) });
const INITIAL = scenario(DEVNET_OPTIONS_PARAMS.scenarioBps);
const MAINTENANCE = scenario(DEVNET_OPTIONS_PARAMS.maintenanceScenarioBps);

/** docs/options.md's iron condor: short the 2 800 put and the 3 200 call, long the 2 600 put and the 3 400 call, 2 ETH each, for a credit of 160. */
const IRON_CONDOR: readonly OptionLeg[] = [put('long', 2_600n, 2n * WAD), put('short', 2_800n, 2n * WAD), call('short', 3_200n, 2n * WAD), call('long', 3_400n, 2n * WAD)];
const CONDOR_CREDIT = usd(-160n);
const NAKED_CALL: readonly OptionLeg[] = [call('short', 3_000n)];
/** A debit: a 3 000 / 3 200 call spread bought for 80. */
const CALL_SPREAD: readonly OptionLeg[] = [call('long', 3_000n), call('short', 3_200n)];

const argsOf = (l: LogDescription | undefined): unknown[] => [...(l?.args ?? [])];
const named = (logs: readonly LogDescription[], name: string): LogDescription[] => logs.filter((l) => l.name === name);
const struct = (a: PriceAttestation) => ({ ...a, chains: [...a.chains] });

describe('options on the engine (base): signed quotes, defined and scenario margin, settlement and liquidation', function () {
  this.timeout(60_000);
  const devnet = useSharedDevnet();
  let undoCredits: (() => Promise<void>) | undefined;
  let t0: string;
  let arbUsdc: string;

  // Credited once for the file (every test starts from here): trader 0's position 1: 240 USDC (the
  // iron condor's maximum loss), 2: one unit less, 3: 600 USDC, 4: 1 WETH; all from arbitrum.
  before(async function () {
    this.timeout(60_000);
    const m = devnet().manifest;
    t0 = getAddress(m.accounts.traders[0]?.address ?? '');
    arbUsdc = getAddress(m.chains.arbitrum?.contracts.usdc ?? '');
    undoCredits = await snapshot(m);
    const { relayer, store } = makeRelayer(m);
    await lock(m, 'arbitrum', { amount: usdc(240n), positionId: 1n });
    await lock(m, 'arbitrum', { amount: usdc(240n) - 1n, positionId: 2n });
    await lock(m, 'arbitrum', { amount: usdc(600n), positionId: 3n });
    await lock(m, 'arbitrum', { amount: WAD, positionId: 4n, asset: 'weth' });
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 4);
    await store.close();
  });

  after(async () => {
    await undoCredits?.();
  });

  const m = (): DevnetManifest => devnet().manifest;
  const asTrader = (index = 0): Contract => engine(m(), trader(m(), 'base', index));
  const asKeeper = (): Contract => engine(m(), new Wallet(m().accounts.relayer.privateKey, provider(m(), 'base')));
  const marketMaker = (): Wallet => new Wallet(m().accounts.marketMaker.privateKey);
  const domain = () => quoteDomain(BASE, m().chains.base?.contracts.engine as string);
  const key = (positionId: bigint, who = t0): string => positionKeyOf(who, positionId);

  /** A quote from the market maker: by default the iron condor on position 1, expiring in an hour. */
  async function quote(o: Partial<OptionQuote> = {}): Promise<OptionQuote> {
    const now = await chainNow(m());
    return { trader: t0, positionId: 1n, market: MARKET, expiry: now + HOUR, legs: IRON_CONDOR, premium: CONDOR_CREDIT, deadline: now + 600n, nonce: freshNonce(), ...o };
  }
  const signed = async (q: OptionQuote, signer: Wallet = marketMaker(), d = domain()) => openArgs(q, await signQuote(q, signer, d));
  const open = async (q: OptionQuote) => minedAt(m(), asTrader(), 'openStrategy', ...(await signed(q)));
  const refusal = async (q: OptionQuote, args?: unknown[]) => reverted(asTrader(), 'openStrategy', ...(args ?? (await signed(q))));

  const attesters = (): Wallet[] => m().accounts.attesters.slice(0, 2).map((a) => new Wallet(a.privateKey));
  const sign = (a: PriceAttestation) => signAttestation(a, attesters(), attestationDomain(BASE, m().chains.base?.contracts.attestations as string));
  async function attestation(prices: { low: bigint; median: bigint; high: bigint }, o: Partial<PriceAttestation> = {}): Promise<PriceAttestation> {
    const now = await chainNow(m());
    return { market: MARKET, ...prices, timestamp: now, chains: CHAINS, deadline: now + 60n, ...o };
  }
  /** Base's own feed at `at` and an attestation of [at − 10, at + 10] around it. */
  async function attestedAround(at: bigint, o: Partial<PriceAttestation> = {}): Promise<PriceAttestation> {
    await setFeedAnswer(m(), ['base'], at * 10n ** 8n);
    return attestation({ low: usd(at - 10n), median: usd(at), high: usd(at + 10n) }, o);
  }

  const positionOf = async (k: string) => {
    const [p, collateral] = (await engine(m()).getFunction('positionOf')(k)) as [{ market: string; srcChainId: bigint; size: bigint; realizedPnl: bigint; fees: bigint }, bigint];
    return { market: p.market, srcChainId: p.srcChainId, size: p.size, realizedPnl: p.realizedPnl, fees: p.fees, collateral };
  };
  const strategyOf = async (k: string) => {
    const [market, expiry, premium, legs, definedRisk, requirement] = (await engine(m()).getFunction('strategyOf')(k)) as [string, bigint, bigint, { isCall: boolean; isLong: boolean; strike: bigint; size: bigint }[], boolean, bigint];
    return { market, expiry, premium, legs: legs.map((l) => ({ isCall: l.isCall, isLong: l.isLong, strike: l.strike, size: l.size })), definedRisk, requirement };
  };
  const queuedOf = (logs: readonly LogDescription[]) => named(logs, 'SettlementQueued').map((l) => [l.args.getValue('id') as bigint, [...(l.args.getValue('s') as unknown[])]] as const);

  it('opens an iron condor (a credit) on collateral of exactly its maximum loss, and not on one unit less', async () => {
    assert.equal(maxLoss(IRON_CONDOR, CONDOR_CREDIT), usd(240n), 'wings of 200 on 2 ETH less the credit of 160');
    const short = await refusal(await quote({ positionId: 2n }));
    assert.equal(short.name, 'InsufficientMargin');
    assert.deepEqual([...short.args], [-USDC_SCALE, usd(240n)], 'one USDC unit short');

    const q = await quote();
    const pool = m().accounts.settlementPool.address;
    const token = m().chains.base?.contracts.settlementToken as string;
    const poolBefore = await tokenBalance(m(), 'base', token, pool);
    const { logs, gasUsed } = await open(q);
    assert.deepEqual(logs.map((l) => l.name), ['ProfitReserved', 'StrategyOpened', 'PositionChanged']);
    assert.deepEqual(argsOf(logs[0]), [key(1n), usdc(160n)], 'the credit is set aside by the pool at once');
    assert.deepEqual(argsOf(logs[1]), [key(1n), MARKET, q.expiry, CONDOR_CREDIT, legsHash(IRON_CONDOR), true, usd(240n)]);
    assert.deepEqual(argsOf(logs[2]), [key(1n), t0, 1n, MARKET]);
    assert.equal(await tokenBalance(m(), 'base', token, pool), poolBefore - usdc(160n));
    assert.deepEqual(await positionOf(key(1n)), { market: MARKET, srcChainId: ARBITRUM, size: 0n, realizedPnl: usd(160n), fees: 0n, collateral: usdc(240n) });
    assert.deepEqual(await strategyOf(key(1n)), { market: MARKET, expiry: q.expiry, premium: CONDOR_CREDIT, legs: IRON_CONDOR, definedRisk: true, requirement: usd(240n) });
    assert.equal(await engine(m()).getFunction('quoteNonceUsed')(q.nonce), true);
    assert.ok(gasUsed < 450_000n, `openStrategy of an iron condor took ${gasUsed} gas`); // 386 501 when written, 411 904 with the options open interest
  });

  it('refuses a quote that is not the one signed: a reused nonce, another signer, trader, position, legs, premium, expiry, engine or chain', async () => {
    assert.equal(await engine(m()).getFunction('quoteDomainSeparator')(), quoteDomainSeparator(domain()), 'the engine\'s own address and chain');
    const q = await quote();
    await open(q);
    // The same quote again: the position holds its strategy already. Its nonce on another quote: used.
    assert.equal((await refusal(q)).name, 'StrategyOpen');
    const reused = await refusal(await quote({ positionId: 3n, nonce: q.nonce }));
    assert.deepEqual([reused.name, ...reused.args], ['QuoteNonceUsed', q.nonce]);

    // A genuine quote for position 3, and its signature put to other uses by its trader.
    const fresh = await quote({ positionId: 3n });
    const genuine = await signed(fresh);
    const signature = genuine[7] as string;
    const attester = attesters()[0] as Wallet;
    const cases: [string, unknown[]][] = [
      ['another signer', await signed(fresh, attester)],
      ['for another trader', openArgs(fresh, await signQuote({ ...fresh, trader: m().accounts.traders[1]?.address as string }, marketMaker(), domain()))],
      ['for another position', openArgs({ ...fresh, positionId: 2n }, signature)],
      ['other legs', openArgs({ ...fresh, legs: [...IRON_CONDOR.slice(0, 3), call('long', 3_401n, 2n * WAD)] }, signature)],
      ['another premium', openArgs({ ...fresh, premium: CONDOR_CREDIT - 1n }, signature)],
      ['another expiry', openArgs({ ...fresh, expiry: fresh.expiry + 1n }, signature)],
      ['for another engine', await signed(fresh, marketMaker(), quoteDomain(BASE, m().chains.base?.contracts.attestations as string))],
      ['for another chain', await signed(fresh, marketMaker(), quoteDomain(ARBITRUM, m().chains.base?.contracts.engine as string))],
      ['a signature cut short', openArgs(fresh, signature.slice(0, 130))],
    ];
    for (const [what, args] of cases) {
      const r = await reverted(asTrader(), 'openStrategy', ...args);
      assert.equal(r.name, 'InvalidQuoteSignature', what);
      assert.notEqual(r.args[0], getAddress(m().accounts.marketMaker.address), what);
    }
    assert.deepEqual([...(await reverted(asTrader(), 'openStrategy', ...(cases[0]?.[1] ?? []))).args], [attester.address], 'it names who signed');
    // None of the attempts used the quote's nonce: the genuine one still opens.
    await mined(m(), asTrader(), 'openStrategy', ...genuine);
    assert.equal((await strategyOf(key(3n))).expiry, fresh.expiry);
  });

  it('refuses an expired quote, an expiry past or beyond the market\'s maximum, and legs or a premium out of bounds', async () => {
    const now = await chainNow(m());
    const expired = await refusal(await quote({ deadline: now - 1n }));
    assert.deepEqual([expired.name, ...expired.args], ['QuoteExpired', now - 1n]);
    const maxExpiry = BigInt(DEVNET_OPTIONS_PARAMS.maxExpiry);
    for (const expiry of [now - 1n, now, now + maxExpiry + 60n]) {
      const r = await refusal(await quote({ expiry }));
      assert.deepEqual([r.name, r.args[0]], ['InvalidExpiry', expiry], `expiry ${expiry - now} s from now`);
    }
    const nine = Array.from({ length: 9 }, (_, i) => call('long', 3_000n + BigInt(i)));
    const legCount = await refusal(await quote({ legs: nine, premium: usd(10n) }));
    assert.deepEqual([legCount.name, ...legCount.args], ['InvalidLegCount', 9n]);
    assert.deepEqual([...(await refusal(await quote({ legs: [] }))).args], [0n]);
    const thirdLeg = (leg: OptionLeg) => IRON_CONDOR.map((l, i) => (i === 2 ? leg : l));
    for (const [what, leg] of [
      ['a strike of 0', call('short', 0n, 2n * WAD)],
      ['a size of 0', call('short', 3_200n, 0n)],
      ['a strike beyond 1e36', { ...call('short', 0n, 2n * WAD), strike: 10n ** 36n + 1n }],
      ['a size beyond 1e36', call('short', 3_200n, 10n ** 36n + 1n)],
    ] as const) {
      const r = await refusal(await quote({ legs: thirdLeg(leg) }));
      assert.deepEqual([r.name, ...r.args], ['InvalidLeg', 2n], what);
    }
    const premium = await refusal(await quote({ premium: -(10n ** 36n) - 1n }));
    assert.deepEqual([premium.name, ...premium.args], ['InvalidPremium', -(10n ** 36n) - 1n]);
    // A quote under which the trader cannot lose is money out of the pool for nothing (a quoter key gone wrong):
    // the condor's credit of its whole wing (2 × 200), a call spread bought for nothing.
    for (const [legs, p] of [[IRON_CONDOR, usd(-400n)], [IRON_CONDOR, usd(-500n)], [CALL_SPREAD, 0n]] as const) {
      const riskless = await refusal(await quote({ legs, premium: p }));
      assert.deepEqual([riskless.name, ...riskless.args], ['RisklessQuote', p]);
    }
    // Up to 30 days out is fine.
    const { logs } = await open(await quote({ expiry: now + maxExpiry - 60n }));
    assert.equal(named(logs, 'StrategyOpened').length, 1);
  });

  it('opens only on tradable collateral, a flat position, an enabled market with a quoter, and not while paused', async () => {
    const weth = getAddress(m().chains.arbitrum?.contracts.weth ?? '');
    const r = await refusal(await quote({ positionId: 4n }));
    assert.deepEqual([r.name, ...r.args], ['CollateralNotTradable', ARBITRUM, weth]);
    assert.equal((await refusal(await quote({ positionId: 9n }))).name, 'NoCollateral');
    const btc = id('BTC-USD');
    const disabled = await refusal(await quote({ market: btc }));
    assert.deepEqual([disabled.name, ...disabled.args], ['MarketDisabled', btc]);
    // A perpetual and a strategy never share a position's collateral.
    await mined(m(), asTrader(), 'increase', 3n, MARKET, LONG, WAD / 10n);
    const perp = await refusal(await quote({ positionId: 3n }));
    assert.deepEqual([perp.name, ...perp.args], ['PerpOpen', key(3n)]);

    const pauser = engine(m(), new Wallet(m().accounts.deployer.privateKey, provider(m(), 'base')));
    await mined(m(), pauser, 'setPaused', true);
    assert.equal((await refusal(await quote())).name, 'EnginePaused');
    await mined(m(), pauser, 'setPaused', false);

    // The risk role stops new strategies by unsetting the quoter.
    await asAdmin(m(), 'setOptionsConfig', [MARKET, devnetOptionsConfig(ZeroAddress)]);
    const off = await refusal(await quote());
    assert.deepEqual([off.name, ...off.args], ['OptionsDisabled', MARKET]);
  });

  it('binds the collateral while a strategy is open: no trade, withdrawal, close, settlement or perp liquidation of the position', async () => {
    // A debit: the call spread bought for 80 leaves the position flat with a realized loss of 80,
    // which settle() would otherwise let anyone settle, releasing the collateral behind the spread.
    const q = await quote({ positionId: 3n, legs: CALL_SPREAD, premium: usd(80n) });
    const { logs } = await open(q);
    assert.deepEqual(argsOf(named(logs, 'StrategyOpened')[0]).slice(5), [true, usd(80n)]);
    assert.equal((await positionOf(key(3n))).realizedPnl, usd(-80n));
    const k = key(3n);
    const other = engine(m(), trader(m(), 'base', 1));
    const a = await attestedAround(2_000n);
    const refusals: [string, Contract, string, unknown[]][] = [
      ['increase', asTrader(), 'increase', [3n, MARKET, LONG, WAD]],
      ['decrease', asTrader(), 'decrease', [3n, 1n]],
      ['withdraw', asTrader(), 'withdraw', [3n, usdc(1n), FEES]],
      ['close', asTrader(), 'close', [3n, FEES]],
      ['settle by anyone', other, 'settle', [k, FEES]],
      ['liquidate as a perp', asKeeper(), 'liquidate', [k, struct(a), await sign(a)]],
      ['a second strategy', asTrader(), 'openStrategy', await signed(await quote({ positionId: 3n }))],
    ];
    for (const [what, c, method, args] of refusals) {
      const r = await reverted(c, method, ...args);
      assert.deepEqual([r.name, ...r.args], ['StrategyOpen', k], what);
    }
    // A batch of perp liquidations passes over it; a defined-risk strategy is never liquidated.
    assert.deepEqual((await mined(m(), asKeeper(), 'liquidateMany', [k], struct(a), await sign(a))).map((l) => l.name), []);
    const defined = await reverted(asKeeper(), 'liquidateStrategy', k, struct(a), await sign(a));
    assert.deepEqual([defined.name, ...defined.args], ['DefinedRiskStrategy', k]);
    assert.equal((await positionOf(k)).collateral, usdc(600n));
    assert.equal((await strategyOf(k)).expiry, q.expiry);
  });

  it('settles an expired iron condor at the worst price of the attested range: queues the RELEASE of the collateral less the loss and the SEIZE of the loss', async () => {
    const q = await quote();
    await open(q);
    const early = await attestedAround(3_000n);
    const notYet = await reverted(asKeeper(), 'settleExpired', key(1n), struct(early), await sign(early));
    assert.deepEqual([notYet.name, ...notYet.args], ['NotExpired', q.expiry]);

    await advance(m(), HOUR + 30n);
    const a = await attestedAround(3_300n);
    // In [3 290, 3 310] the worst for the trader is the high: the short 3 200 call pays 2 × 110.
    const price = worstPrice(IRON_CONDOR, a.low, a.high);
    assert.equal(price, usd(3_310n));
    assert.equal(payoff(IRON_CONDOR, price), usd(-220n));
    const token = m().chains.base?.contracts.settlementToken as string;
    const pool = m().accounts.settlementPool.address;
    const poolBefore = await tokenBalance(m(), 'base', token, pool);
    const { logs, gasUsed } = await minedAt(m(), asKeeper(), 'settleExpired', key(1n), struct(a), await sign(a));
    assert.deepEqual(logs.map((l) => l.name), ['SettlementQueued', 'SettlementQueued', 'StrategySettled', 'PositionChanged']);
    // 240 of collateral + 160 of credit − 220 paid out: the trader keeps 180, 60 is seized.
    const queued = queuedOf(logs);
    assert.deepEqual(queued.map(([, s]) => s), [
      [ARBITRUM, BigInt(MessageKind.RELEASE), t0, 1n, arbUsdc, usdc(180n), ZeroHash, 0n],
      [ARBITRUM, BigInt(MessageKind.SEIZE), t0, 1n, arbUsdc, usdc(60n), MARKET, usd(3_310n)],
    ]);
    assert.deepEqual(argsOf(logs[2]), [key(1n), usd(3_310n), usd(-220n)]);
    assert.deepEqual(argsOf(logs[3]), [key(1n), t0, 1n, MARKET]);
    assert.equal(await tokenBalance(m(), 'base', token, pool), poolBefore + usdc(160n), 'the credit set aside goes back to the pool: it was lost');
    assert.deepEqual(await positionOf(key(1n)), { market: ZeroHash, srcChainId: 0n, size: 0n, realizedPnl: 0n, fees: 0n, collateral: 0n });
    assert.equal((await strategyOf(key(1n))).expiry, 0n);
    const again = await reverted(asKeeper(), 'settleExpired', key(1n), struct(a), await sign(a));
    assert.deepEqual([again.name, ...again.args], ['NoStrategy', key(1n)]);
    // Anyone sends them, paying the fees.
    for (const [queuedId, s] of queued) {
      const sent = await mined(m(), asKeeper(), 'sendQueued', queuedId, s, FEES);
      assert.deepEqual(argsOf(sent[0]).slice(2, 7), [s[1], t0, 1n, arbUsdc, s[5]]);
    }
    assert.ok(gasUsed < 300_000n, `settleExpired took ${gasUsed} gas`); // 241 772 when written
  });

  it('settles an iron condor beyond its wings by seizing exactly its collateral: never a deficit', async () => {
    const q = await quote();
    await open(q);
    await advance(m(), HOUR + 1n);
    const a = await attestedAround(3_500n);
    assert.equal(payoff(IRON_CONDOR, worstPrice(IRON_CONDOR, a.low, a.high)), usd(-400n));
    const logs = await mined(m(), asKeeper(), 'settleExpired', key(1n), struct(a), await sign(a));
    assert.deepEqual(logs.map((l) => l.name), ['SettlementQueued', 'StrategySettled', 'PositionChanged']);
    assert.deepEqual(queuedOf(logs).map(([, s]) => [s[1], s[5]]), [[BigInt(MessageKind.SEIZE), usdc(240n)]]);
    assert.equal(await engine(m()).getFunction('badDebt')(MARKET), 0n);
  });

  it('settles only with an attestation a liquidation would take, from at or after expiry: one chain\'s oracle moved alone is refused (OracleDeviation)', async () => {
    const q = await quote();
    await open(q);
    await advance(m(), HOUR + 30n);
    // Stamped a second before expiry and fresh (30 s old): refused all the same.
    const before = await attestedAround(3_000n, { timestamp: q.expiry - 1n });
    const r = await reverted(asKeeper(), 'settleExpired', key(1n), struct(before), await sign(before));
    assert.deepEqual([r.name, ...r.args], ['AttestationBeforeExpiry', q.expiry - 1n, q.expiry]);
    const btc = id('BTC-USD');
    const other = await attestedAround(3_000n, { market: btc });
    assert.deepEqual([...(await reverted(asKeeper(), 'settleExpired', key(1n), struct(other), await sign(other))).args], [MARKET, btc]);
    // The other chains agree on 3 000; base's own feed alone moved to 2 500.
    const a = await attestedAround(3_000n);
    await setFeedAnswer(m(), ['base'], 2_500n * 10n ** 8n);
    const deviation = await reverted(asKeeper(), 'settleExpired', key(1n), struct(a), await sign(a));
    assert.deepEqual([deviation.name, ...deviation.args], ['OracleDeviation', usd(2_500n), usd(3_000n)]);
    const [, ...signers] = await sign(a);
    assert.equal((await reverted(asKeeper(), 'settleExpired', key(1n), struct(a), signers)).name, 'TooFewSigners');
    // Base's feed back in line: it settles.
    await setFeedAnswer(m(), ['base'], 3_000n * 10n ** 8n);
    await mined(m(), asKeeper(), 'settleExpired', key(1n), struct(a), await sign(a));
  });

  it('settles at the price at expiry: an attestation from after the settle window is the keeper\'s to use, never the trader\'s (no free option)', async () => {
    const q = await quote();
    await open(q);
    const windowEnd = q.expiry + BigInt(DEVNET_OPTIONS_PARAMS.settleWindow);
    await advance(m(), HOUR + BigInt(DEVNET_OPTIONS_PARAMS.settleWindow) + 60n);
    // A fresh attestation, stamped after the window: the trader waited for a better price.
    const late = await attestedAround(3_000n);
    assert.ok(late.timestamp > windowEnd);
    const r = await reverted(asTrader(), 'settleExpired', key(1n), struct(late), await sign(late));
    assert.deepEqual([r.name, ...r.args], ['AttestationAfterSettleWindow', late.timestamp, windowEnd]);
    // Within the window it would have settled for anyone (the other tests settle as the keeper only for convenience).
    // The operator's keeper (the vol updater) settles it all the same: the collateral is never stuck.
    await mined(m(), asKeeper(), 'settleExpired', key(1n), struct(late), await sign(late));
  });

  it('asks a naked call for its scenario margin; it is liquidatable after a rise with an attestation, and not before', async () => {
    const now = await chainNow(m());
    const expiry = now + 7n * 24n * HOUR;
    // Two calls need ~1 196 of scenario margin: more than the 600 of position 3.
    const tooBig = await refusal(await quote({ positionId: 3n, legs: [call('short', 3_000n, 2n * WAD)], premium: usd(-200n), expiry }));
    assert.equal(tooBig.name, 'InsufficientMargin');
    const required = tooBig.args[1] as bigint;
    assert.equal(tooBig.args[0], usd(600n) - required);
    const initialAt = (legs: readonly OptionLeg[], premium: bigint, at: bigint) => scenarioLoss(legs, premium, usd(3_000n), SIGMA, expiry - at, INITIAL);
    assert.ok([now, now + 1n].some((at) => initialAt([call('short', 3_000n, 2n * WAD)], usd(-200n), at) === required), `required ${required}`);

    const q = await quote({ positionId: 3n, legs: NAKED_CALL, premium: usd(-100n), expiry });
    const opened = await open(q);
    const requirement = initialAt(NAKED_CALL, usd(-100n), opened.timestamp);
    assert.deepEqual(argsOf(named(opened.logs, 'StrategyOpened')[0]).slice(5), [false, requirement]);
    assert.ok(requirement > usd(548n) && requirement < usd(549n), 'the ±15 % grid\'s top at σ 104 %');

    // Around 3 000 its margin (600) covers the maintenance scenario margin (~400).
    const calm = await attestedAround(3_000n);
    const healthy = await reverted(asKeeper(), 'liquidateStrategy', key(3n), struct(calm), await sign(calm));
    assert.equal(healthy.name, 'NotLiquidatable');
    assert.equal(healthy.args[0], usd(600n), 'collateral + realized (+100) + premium (−100) − fees');
    assert.ok((healthy.args[1] as bigint) < usd(600n));

    // At 3 300 it does not (~727 even at the attested low, where a short call is worth most: it is judged and closed there).
    const a = await attestedAround(3_300n);
    const { logs, timestamp } = await minedAt(m(), asKeeper(), 'liquidateStrategy', key(3n), struct(a), await sign(a));
    const t = expiry - timestamp;
    assert.ok(scenarioLoss(NAKED_CALL, usd(-100n), a.low, SIGMA, t, MAINTENANCE) > usd(600n));
    const v = value(NAKED_CALL, a.low, SIGMA, t);
    assert.ok(v > value(NAKED_CALL, a.high, SIGMA, t), 'a short call is worth most at the low');
    const penalty = (usd(3_290n) + 99n) / 100n;
    const eq = usd(600n) + usd(100n) + v;
    const keeperUnits = penalty / 2n / USDC_SCALE;
    const released = (eq - penalty) / USDC_SCALE;
    assert.deepEqual(logs.map((l) => l.name), ['LiquidationPenalty', 'SettlementQueued', 'SettlementQueued', 'StrategyLiquidated', 'PositionChanged']);
    assert.deepEqual(argsOf(logs[0]), [key(3n), m().accounts.relayer.address, penalty, keeperUnits]);
    assert.deepEqual(queuedOf(logs).map(([, s]) => [s[1], s[5]]), [[BigInt(MessageKind.RELEASE), released], [BigInt(MessageKind.SEIZE), usdc(600n) - keeperUnits - released]]);
    const digest = attestationDigest(a, attestationDomain(BASE, m().chains.base?.contracts.attestations as string));
    assert.deepEqual(argsOf(logs[3]), [key(3n), MARKET, a.low, digest, v, penalty]);
    assert.equal(await engine(m()).getFunction('keeperRewards')(m().accounts.relayer.address, ARBITRUM, arbUsdc), keeperUnits);
    assert.equal((await strategyOf(key(3n))).expiry, 0n);
  });

  it('liquidates no strategy at or after its expiry: it settles instead', async () => {
    const q = await quote({ positionId: 3n, legs: NAKED_CALL, premium: usd(-100n) });
    await open(q);
    await advance(m(), HOUR);
    const a = await attestedAround(3_600n);
    const r = await reverted(asKeeper(), 'liquidateStrategy', key(3n), struct(a), await sign(a));
    assert.deepEqual([r.name, ...r.args], ['StrategyExpired', q.expiry]);
    // Settled at 3 610: 600 + 100 − 610 = 90 back to the trader.
    const logs = await mined(m(), asKeeper(), 'settleExpired', key(3n), struct(a), await sign(a));
    assert.deepEqual(queuedOf(logs).map(([, s]) => [s[1], s[5]]), [[BigInt(MessageKind.RELEASE), usdc(90n)], [BigInt(MessageKind.SEIZE), usdc(510n)]]);
  });

  it('settles an uncovered strategy that lost more than its collateral: the deficit is covered by the destination insurance, as a liquidation\'s', async () => {
    const q = await quote({ positionId: 3n, legs: NAKED_CALL, premium: usd(-100n) });
    await open(q);
    await advance(m(), HOUR);
    // Nobody liquidated it on the way up: at 3 810, 600 + 100 − 810 = −110.
    const a = await attestedAround(3_800n);
    const insurance = m().accounts.insuranceFund.address;
    const token = m().chains.base?.contracts.settlementToken as string;
    const before = await tokenBalance(m(), 'base', token, insurance);
    const logs = await mined(m(), asKeeper(), 'settleExpired', key(3n), struct(a), await sign(a));
    assert.deepEqual(logs.map((l) => l.name), ['SettlementQueued', 'BadDebt', 'StrategySettled', 'PositionChanged']);
    assert.deepEqual(queuedOf(logs).map(([, s]) => [s[1], s[5]]), [[BigInt(MessageKind.SEIZE), usdc(600n)]]);
    assert.deepEqual(argsOf(logs[1]), [key(3n), MARKET, usd(110n), usdc(110n), 0n]);
    assert.equal(await tokenBalance(m(), 'base', token, insurance), before - usdc(110n));
    assert.equal(await engine(m()).getFunction('badDebt')(MARKET), 0n);
  });

  /** Position 3 after 1 ETH long opened at 3 000 and closed at `exit`: flat, with a realized PnL and 3 + exit/1000 of fees. */
  async function flatAfterPerp(exit: bigint): Promise<void> {
    await mined(m(), asTrader(), 'increase', 3n, MARKET, LONG, WAD);
    await setFeedAnswer(m(), ['base'], exit * 10n ** 8n);
    await mined(m(), asTrader(), 'decrease', 3n, WAD);
    await setFeedAnswer(m(), ['base'], 3_000n * 10n ** 8n);
  }
  const nakedCalls = async (size: bigint) =>
    quote({ positionId: 3n, legs: [call('short', 3_000n, size)], premium: usd(-100n), expiry: (await chainNow(m())) + 7n * 24n * HOUR });

  it('counts a loss realized before the strategy against its margin', async () => {
    await flatAfterPerp(2_900n);
    const p = await positionOf(key(3n));
    assert.deepEqual([p.realizedPnl, p.fees], [usd(-100n), usd(59n) / 10n]);
    // 600 covers one naked call's ~548 alone; 600 − 5.9 − 100 does not.
    const r = await refusal(await nakedCalls(WAD));
    assert.equal(r.name, 'InsufficientMargin');
    assert.equal((r.args[0] as bigint) + (r.args[1] as bigint), usd(600n) - usd(59n) / 10n - usd(100n));
  });

  it('does not count realized profit toward a strategy\'s margin', async () => {
    await flatAfterPerp(3_100n);
    const p = await positionOf(key(3n));
    assert.deepEqual([p.realizedPnl, p.fees], [usd(100n), usd(61n) / 10n]);
    // 1.1 naked calls need ~613: within 600 − 6.1 + 100, beyond 600 − 6.1.
    const r = await refusal(await nakedCalls((11n * WAD) / 10n));
    assert.equal(r.name, 'InsufficientMargin');
    assert.ok((r.args[1] as bigint) < usd(600n) - usd(61n) / 10n + usd(100n), `required ${r.args[1]}`);
    assert.equal((r.args[0] as bigint) + (r.args[1] as bigint), usd(600n) - usd(61n) / 10n);
  });

  it('takes the volatility from the vol updater or the owner, within the market\'s bounds', async () => {
    const e = engine(m());
    const sigmaOf = async () => ((await e.getFunction('optionsConfig')(MARKET)) as { sigma: bigint }).sigma;
    const logs = await mined(m(), asKeeper(), 'setVolatility', MARKET, 9n * 10n ** 17n);
    assert.deepEqual(logs.map((l) => [l.name, ...l.args]), [['VolatilitySet', MARKET, 9n * 10n ** 17n, m().accounts.relayer.address]]);
    assert.equal(await sigmaOf(), 9n * 10n ** 17n);
    const { volMin, volMax } = DEVNET_OPTIONS_PARAMS;
    for (const sigma of [volMin - 1n, volMax + 1n, 0n]) {
      const r = await reverted(asKeeper(), 'setVolatility', MARKET, sigma);
      assert.deepEqual([r.name, ...r.args], ['VolatilityOutOfBounds', sigma, volMin, volMax]);
    }
    assert.deepEqual([...(await reverted(asKeeper(), 'setVolatility', id('BTC-USD'), SIGMA)).args], [SIGMA, 0n, 0n], 'a market without options');
    const stranger = await reverted(asTrader(), 'setVolatility', MARKET, SIGMA);
    assert.deepEqual([stranger.name, ...stranger.args], ['NotVolUpdater', t0]);
    // The updater sets nothing else.
    assert.equal((await reverted(asKeeper(), 'setOptionsConfig', MARKET, devnetOptionsConfig(t0))).name, 'OwnableUnauthorizedAccount');
    await asAdmin(m(), 'setVolatility', [MARKET, volMax]);
    assert.equal(await sigmaOf(), volMax);
  });

  it('lets the vol updater move σ only in steps (maxVolStepBps), at most once per minVolInterval: a hot key gone wrong cannot jump it to liquidate', async () => {
    const e = engine(m());
    const sigmaOf = async () => ((await e.getFunction('optionsConfig')(MARKET)) as { sigma: bigint }).sigma;
    const { maxVolStepBps, minVolInterval, volMax } = DEVNET_OPTIONS_PARAMS;
    // From 0.8: 20 % is 0.96; a wei more is refused.
    const jump = await reverted(asKeeper(), 'setVolatility', MARKET, 96n * 10n ** 16n + 1n);
    assert.deepEqual([jump.name, ...jump.args], ['VolatilityStepTooLarge', 96n * 10n ** 16n + 1n, SIGMA, BigInt(maxVolStepBps)]);
    assert.equal((await reverted(asKeeper(), 'setVolatility', MARKET, volMax)).name, 'VolatilityStepTooLarge');
    await mined(m(), asKeeper(), 'setVolatility', MARKET, 96n * 10n ** 16n);
    // The next post waits for the interval, however small.
    const soon = await reverted(asKeeper(), 'setVolatility', MARKET, 95n * 10n ** 16n);
    assert.deepEqual([soon.name, soon.args[1]], ['VolatilityPostedTooSoon', BigInt(minVolInterval)]);
    await advance(m(), BigInt(minVolInterval));
    await mined(m(), asKeeper(), 'setVolatility', MARKET, 115n * 10n ** 16n);
    assert.equal(await sigmaOf(), 115n * 10n ** 16n);
    // The owner (the timelock) is bound by neither.
    await asAdmin(m(), 'setVolatility', [MARKET, volMax]);
    assert.equal(await sigmaOf(), volMax);
  });

  it('caps the option size open in a market (maxOpenInterest over every leg): what a quoter key gone wrong can cost the pool is bounded', async () => {
    const cap = 9n * WAD;
    await asAdmin(m(), 'setOptionsConfig', [MARKET, { ...devnetOptionsConfig(m().accounts.marketMaker.address), maxOpenInterest: cap }]);
    const openInterest = async () => (await engine(m()).getFunction('optionsOpenInterest')(MARKET)) as bigint;
    // The condor's four legs of 2: 8 of the 9.
    const q = await quote();
    await open(q);
    assert.equal(await openInterest(), 8n * WAD);
    const more = await refusal(await quote({ positionId: 2n, legs: CALL_SPREAD, premium: usd(80n) }));
    assert.deepEqual([more.name, ...more.args], ['OptionsOpenInterestCap', MARKET, 10n * WAD, cap]);
    // Settled, its legs leave the count.
    await advance(m(), HOUR + 30n);
    const a = await attestedAround(3_000n);
    await mined(m(), asKeeper(), 'settleExpired', key(1n), struct(a), await sign(a));
    assert.equal(await openInterest(), 0n);
    await open(await quote({ positionId: 2n, legs: CALL_SPREAD, premium: usd(80n) }));
    assert.equal(await openInterest(), 2n * WAD);
  });

  it('refuses an options config whose volatility, scenarios or scaled rates are out of bounds', async () => {
    const timelock = m().chains.base?.contracts.timelock as string;
    const asOwner = (config: Record<string, unknown>) => reverted(engine(m()), 'setOptionsConfig', MARKET, config, { from: timelock });
    const base = devnetOptionsConfig(m().accounts.marketMaker.address);
    const { volMin, volMax } = DEVNET_OPTIONS_PARAMS;
    for (const [what, patch] of [
      ['σ below volMin', { sigma: volMin - 1n }],
      ['σ above volMax', { sigma: volMax + 1n }],
      ['maintenance shock not below the initial', { maintenanceScenarioBps: DEVNET_OPTIONS_PARAMS.scenarioBps }],
      ['no price steps', { scenarioSteps: 0 }],
      ['too many price steps', { scenarioSteps: 21 }],
      ['no expiry allowed', { maxExpiry: 0 }],
      ['no settle window', { settleWindow: 0 }],
      ['a scaled mmr reaching imr', { sigmaRef: SIGMA, mmrMax: 10n ** 17n }],
      ['a scaled mmr at the penalty', { sigmaRef: SIGMA, mmrMin: 10n ** 16n }],
    ] as const) {
      assert.equal((await asOwner({ ...base, ...patch })).name, 'InvalidConfig', what);
    }
    // The same config within bounds is taken.
    await engine(m()).getFunction('setOptionsConfig').staticCall(MARKET, { ...base, sigmaRef: SIGMA }, { from: timelock });
  });

  it('with sigmaRef set, liquidates a perpetual at the volatility-scaled maintenance rate', async () => {
    const e = engine(m());
    await mined(m(), asTrader(), 'increase', 3n, MARKET, LONG, WAD);
    const k = key(3n);
    let a = await attestedAround(2_600n);
    const account = accountFromEngine(await e.getFunction('accountOf')(k));
    const mmr = 5n * 10n ** 16n;
    assert.equal(await e.getFunction('maintenanceRate')(MARKET), mmr, 'unscaled while sigmaRef is 0');
    const healthy = await reverted(asKeeper(), 'liquidate', k, struct(a), await sign(a));
    assert.deepEqual([healthy.name, ...healthy.args], ['NotLiquidatable', equity(account, a.high), maintenanceMargin(account.position, mmr, a.high)]);

    // σ 80 % against a reference of 40 %: mmr doubles to 10 %, clamped to 9 %.
    const sigmaRef = 4n * 10n ** 17n;
    await asAdmin(m(), 'setOptionsConfig', [MARKET, devnetOptionsConfig(m().accounts.marketMaker.address, { sigmaRef })]);
    const scaled = scaledRate(mmr, SIGMA, sigmaRef, DEVNET_OPTIONS_PARAMS.mmrMin, DEVNET_OPTIONS_PARAMS.mmrMax);
    assert.equal(scaled, 9n * 10n ** 16n);
    assert.equal(await e.getFunction('maintenanceRate')(MARKET), scaled);
    a = await attestedAround(2_600n);
    const plan = liquidationPlan(account, scaled, BigInt(100) * 10n ** 14n, a.high);
    const logs = await mined(m(), asKeeper(), 'liquidate', k, struct(a), await sign(a));
    const liquidated = logs.find((l) => l.name === 'PositionPartiallyLiquidated' || l.name === 'PositionLiquidated');
    assert.equal(liquidated?.name, plan.full ? 'PositionLiquidated' : 'PositionPartiallyLiquidated');
    if (!plan.full) assert.deepEqual(argsOf(liquidated).slice(4), [plan.closeSize, plan.penalty]);
    assert.equal(account.position.side, Side.Long);
  });
});
