// Liquidation on the engine (base) through EIP-712 price attestations: 2 of 3 attesters liquidate a
// position that breaches at the conservative end of the attested range; on chain, everything else
// is refused — too few, unknown, repeated or unsorted signers, expired, stale, another
// market, too few chains, a median far from the engine's own oracle, a position healthy at that end.
import assert from 'node:assert/strict';
import { Contract, Interface, Wallet, ZeroAddress, getAddress, id, type LogDescription, type Result } from 'ethers';
import { ChainClient } from '../../relayer/chains/client.js';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import { DEVNET_LIQUIDATION_PENALTY_BPS, DEVNET_MARKET_PARAMS, type DevnetManifest } from '../../relayer/devnet/deploy.js';
import { accountFromEngine, positionKeyOf } from '../../relayer/liquidation/engineAccount.js';
import { attestationDigest, attestationDomain, signAttestation, type PriceAttestation } from '../../relayer/liquidation/attestation.js';
import {
  Side, WAD, equity, isLiquidatable, liquidationPlan, liquidationPrice, maintenanceMargin, type IsolatedAccount,
} from '../../relayer/margin/index.js';
import { MessageKind, messageId } from '../../relayer/messages/codec.js';
import { readAllChains } from '../../relayer/oracle/readFeeds.js';
import { reconcilePrices } from '../../relayer/oracle/reconcile.js';
import { asAdmin, engine, lock, makeRelayer, provider, setFeedAnswer, snapshot, testConfig, tickUntil, trader, useSharedDevnet } from '../setup/devnet.js';
import { CHAIN_ID, LONG, MARKET_ID, mined, outboundMessage, reverted, SHORT, usdc } from '../setup/engineCalls.js';

const MARKET = MARKET_ID;
const { base: BASE, arbitrum: ARBITRUM, optimism: OPTIMISM } = CHAIN_ID as Record<'base' | 'arbitrum' | 'optimism', bigint>;
const CHAINS = [OPTIMISM, BASE, ARBITRUM];
const usd = (dollars: bigint): bigint => dollars * WAD;
const { mmr } = DEVNET_MARKET_PARAMS;
const rates = { imr: DEVNET_MARKET_PARAMS.imr, mmr };

const attestationsIface = new Interface(ourArtifact('PriceAttestations').abi);
const PENALTY_RATE = BigInt(DEVNET_LIQUIDATION_PENALTY_BPS) * 10n ** 14n;
const USDC_SCALE = 10n ** 12n;
/** The log of a liquidation, whole or partial. */
const liquidationOf = (logs: readonly LogDescription[]) => logs.find((l) => l.name === 'PositionLiquidated' || l.name === 'PositionPartiallyLiquidated');
const keyOf = positionKeyOf;

/** The engine's margin account of a position (accountOf), in relayer/margin's terms. */
async function accountOf(m: DevnetManifest, key: string): Promise<IsolatedAccount> {
  return accountFromEngine((await engine(m).getFunction('accountOf')(key)) as Result);
}

/** Everything the engine holds for a position, for before/after comparisons. */
async function snapshotOf(m: DevnetManifest, key: string): Promise<unknown[]> {
  const [p, collateral] = (await engine(m).getFunction('positionOf')(key)) as [unknown[], bigint];
  return [...p, collateral];
}

async function chainNow(m: DevnetManifest): Promise<bigint> {
  const block = await provider(m, 'base').getBlock('latest');
  if (block === null) throw new Error('no latest block on base');
  return BigInt(block.timestamp);
}

async function advance(m: DevnetManifest, seconds: number): Promise<void> {
  await provider(m, 'base').send('evm_increaseTime', [seconds]);
  await provider(m, 'base').send('evm_mine', []);
}

describe('liquidation with EIP-712 price attestations (engine on base)', function () {
  this.timeout(60_000);
  const devnet = useSharedDevnet();
  let undoSetup: (() => Promise<void>) | undefined;
  let t0: string;
  let t1: string;

  // Once for the file, each test starting from here: 1 000 USDC from arbitrum in each position,
  // opened at 3 000. Trader 0: #1 long 3 ETH, #2 long 1 ETH. Trader 1: #1 long 3 ETH, #2 short 3 ETH.
  before(async function () {
    this.timeout(60_000);
    const m = devnet().manifest;
    t0 = getAddress(m.accounts.traders[0]?.address ?? '');
    t1 = getAddress(m.accounts.traders[1]?.address ?? '');
    undoSetup = await snapshot(m);
    const { relayer, store } = makeRelayer(m);
    for (const [t, positionId] of [[0, 1n], [0, 2n], [1, 1n], [1, 2n]] as const) await lock(m, 'arbitrum', { amount: usdc(1_000n), positionId, trader: t });
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 4);
    await store.close();
    const e0 = engine(m, trader(m, 'base', 0));
    const e1 = engine(m, trader(m, 'base', 1));
    await mined(m, e0, 'increase', 1n, MARKET, LONG, 3n * WAD);
    await mined(m, e0, 'increase', 2n, MARKET, LONG, WAD);
    await mined(m, e1, 'increase', 1n, MARKET, LONG, 3n * WAD);
    await mined(m, e1, 'increase', 2n, MARKET, SHORT, 3n * WAD);
  });

  after(async () => {
    await undoSetup?.();
  });

  const attesters = (): Wallet[] => devnet().manifest.accounts.attesters.map((a) => new Wallet(a.privateKey));
  const domain = () => {
    const m = devnet().manifest;
    return attestationDomain(BASE, m.chains.base?.contracts.attestations as string);
  };
  /** Signs the liquidation, by default with 2 of the 3 attesters. */
  const sign = (a: PriceAttestation, signers: readonly Wallet[] = attesters().slice(0, 2)) => signAttestation(a, signers, domain());
  /** Sent by the keeper's gas key, which is not an attester. */
  const asKeeper = (): Contract => {
    const m = devnet().manifest;
    return engine(m, new Wallet(m.accounts.relayer.privateKey, provider(m, 'base')));
  };
  const struct = (a: PriceAttestation) => ({ ...a, chains: [...a.chains] });

  /** An attestation of ETH-USD read now, valid for a minute, over all three chains. */
  async function attestation(prices: { low: bigint; median: bigint; high: bigint }, o: Partial<PriceAttestation> = {}): Promise<PriceAttestation> {
    const now = await chainNow(devnet().manifest);
    return { market: MARKET, ...prices, timestamp: now, chains: CHAINS, deadline: now + 60n, ...o };
  }
  /** Base's feed at 2 800 and an attestation that agrees: trader 0's long #1 breaches (at 2 810.17…). */
  async function breachedAt2800(o: Partial<PriceAttestation> = {}): Promise<PriceAttestation> {
    await setFeedAnswer(devnet().manifest, ['base'], 2_800_00000000n);
    return attestation({ low: usd(2_795n), median: usd(2_800n), high: usd(2_805n) }, o);
  }
  const refusal = async (positionKey: string, a: PriceAttestation, signatures: readonly string[]) => reverted(asKeeper(), 'liquidate', positionKey, struct(a), [...signatures]);

  it('brings a long breached at the attested high back above maintenance with 2 of 3 attesters: the smallest partial close, the penalty split, the other positions as they were', async () => {
    const m = devnet().manifest;
    const e = engine(m);
    const key = keyOf(t0, 1n);
    const a = await breachedAt2800();
    const account = await accountOf(m, key);
    assert.ok(isLiquidatable(account, rates, a.high), 'breached at the conservative end');
    const plan = liquidationPlan(account, mmr, PENALTY_RATE, a.high);
    assert.ok(!plan.full && plan.closeSize > 0n && plan.closeSize < account.position.size, 'a partial close restores it');
    const others = [keyOf(t0, 2n), keyOf(t1, 1n), keyOf(t1, 2n)];
    const othersBefore = await Promise.all(others.map((k) => snapshotOf(m, k)));

    const [first, , third] = attesters();
    const signatures = await sign(a, [third as Wallet, first as Wallet]);
    assert.equal(await provider(m, 'base').getBalance(await e.getAddress()), 0n, 'the engine has no balance to pay fees from');
    const logs = await mined(m, asKeeper(), 'liquidate', key, struct(a), signatures);
    const digest = attestationDigest(a, domain());
    assert.deepEqual(logs.map((l) => l.name), ['LiquidationPenalty', 'PositionPartiallyLiquidated', 'PositionChanged']);
    const keeperShare = plan.penalty / 2n / USDC_SCALE;
    assert.deepEqual([...(logs[0]?.args ?? [])], [key, m.accounts.relayer.address, plan.penalty, keeperShare]);
    assert.deepEqual([...(logs[1]?.args ?? [])], [key, MARKET, a.high, digest, plan.closeSize, plan.penalty]);
    assert.equal(await e.getFunction('keeperRewards')(m.accounts.relayer.address, ARBITRUM, getAddress(m.chains.arbitrum?.contracts.usdc ?? '')), keeperShare);

    // The keeper claims its share on the collateral's chain: a RELEASE to it, paying the fee.
    const fee = (await e.getFunction('quoteSettlement')(ARBITRUM)) as bigint;
    const claimed = await mined(m, asKeeper(), 'claimKeeperReward', ARBITRUM, getAddress(m.chains.arbitrum?.contracts.usdc ?? ''), { value: fee });
    assert.deepEqual([...(claimed[0]?.args ?? [])].slice(2, 7), [BigInt(MessageKind.RELEASE), m.accounts.relayer.address, 0n, getAddress(m.chains.arbitrum?.contracts.usdc ?? ''), keeperShare]);
    assert.equal((await reverted(asKeeper(), 'claimKeeperReward', ARBITRUM, getAddress(m.chains.arbitrum?.contracts.usdc ?? ''), { value: fee })).name, 'NothingToSettle', 'claimed once');

    const after = await accountOf(m, key);
    assert.equal(after.position.size, account.position.size - plan.closeSize);
    assert.ok(!isLiquidatable(after, rates, a.high), 'back above maintenance at the price it was liquidated at');
    assert.equal((await reverted(asKeeper(), 'liquidate', key, struct(a), signatures)).name, 'NotLiquidatable');
    const attestations = new Contract(m.chains.base?.contracts.attestations as string, attestationsIface, provider(m, 'base'));
    assert.equal(await attestations.getFunction('verify')(struct(a), signatures, 60n, 2n), digest, 'the digest the engine logged');
    assert.deepEqual(await Promise.all(others.map((k) => snapshotOf(m, k))), othersBefore, 'size, collateral, entry, fees of the other positions unchanged');
  });

  it('closes a long underwater whole: SEIZEs its collateral (queued, sent by whoever pays), and the destination insurance covers the deficit into the pool', async () => {
    const m = devnet().manifest;
    const e = engine(m);
    const key = keyOf(t0, 1n);
    await setFeedAnswer(m, ['base'], 2_600_00000000n);
    const a = await attestation({ low: usd(2_595n), median: usd(2_600n), high: usd(2_600n) });
    const account = await accountOf(m, key);
    const deficit = -equity(account, a.high);
    assert.ok(deficit > 0n, 'equity below zero: 1 000 − 3·400 − 9');
    const token = new Contract(m.chains.base?.contracts.settlementToken as string, ['function balanceOf(address) view returns (uint256)'], provider(m, 'base'));
    const balance = (who: string) => token.getFunction('balanceOf')(who) as Promise<bigint>;
    const [poolBefore, fundBefore] = [await balance(m.accounts.settlementPool.address), await balance(m.accounts.insuranceFund.address)];
    const nonce = (await e.getFunction('outboundNonce')(ARBITRUM)) as bigint;

    const logs = await mined(m, asKeeper(), 'liquidate', key, struct(a), await sign(a));
    assert.deepEqual(logs.map((l) => l.name), ['SettlementQueued', 'BadDebt', 'PositionLiquidated', 'PositionChanged']);
    const covered = (deficit + USDC_SCALE - 1n) / USDC_SCALE;
    assert.deepEqual([...(logs[1]?.args ?? [])], [key, MARKET, deficit, covered, 0n], 'covered whole: no bad debt left');
    assert.equal(await balance(m.accounts.settlementPool.address), poolBefore + covered);
    assert.equal(await balance(m.accounts.insuranceFund.address), fundBefore - covered);
    assert.equal(await e.getFunction('badDebt')(MARKET), 0n);
    const [queuedId, , queued] = [...(logs[0]?.args ?? [])] as [bigint, bigint, unknown[]];
    const arbUsdc = getAddress(m.chains.arbitrum?.contracts.usdc ?? '');
    assert.deepEqual([...queued], [ARBITRUM, BigInt(MessageKind.SEIZE), t0, 1n, arbUsdc, usdc(1_000n), MARKET, a.high], 'no penalty is left to take: all of it to the fund');
    // The keeper (or anyone) sends it, paying its fee; it is numbered in the vault's sequence when sent.
    const fee = (await e.getFunction('quoteSettlement')(ARBITRUM)) as bigint;
    const sentLogs = await mined(m, asKeeper(), 'sendQueued', queuedId, [...queued], { value: fee });
    assert.deepEqual([...(sentLogs[0]?.args ?? [])].slice(0, 7), [messageId(BASE, await e.getAddress(), nonce + 1n), ARBITRUM, BigInt(MessageKind.SEIZE), t0, 1n, arbUsdc, usdc(1_000n)]);
    const sent = await outboundMessage(m, ARBITRUM, nonce + 1n);
    assert.deepEqual([sent.market, sent.price], [MARKET, a.high], 'the SEIZE carries the price it was decided at');
    const [position, collateral] = (await e.getFunction('positionOf')(key)) as [{ size: bigint; srcChainId: bigint }, bigint];
    assert.deepEqual([position.size, position.srcChainId, collateral], [0n, 0n, 0n]);
  });

  it('records what the destination insurance cannot cover as bad debt', async () => {
    const m = devnet().manifest;
    await asAdmin(m, 'setDestinationInsurance', [ZeroAddress]);
    await setFeedAnswer(m, ['base'], 2_600_00000000n);
    const a = await attestation({ low: usd(2_595n), median: usd(2_600n), high: usd(2_600n) });
    const deficit = -equity(await accountOf(m, keyOf(t0, 1n)), a.high);
    const logs = await mined(m, asKeeper(), 'liquidate', keyOf(t0, 1n), struct(a), await sign(a));
    assert.deepEqual([...(logs.find((l) => l.name === 'BadDebt')?.args ?? [])], [keyOf(t0, 1n), MARKET, deficit, 0n, deficit]);
    assert.equal(await engine(m).getFunction('badDebt')(MARKET), deficit);
  });

  it('liquidates exactly where relayer/margin says the position breaches, and not one wei above', async () => {
    const m = devnet().manifest;
    const key = keyOf(t0, 1n);
    const account = await accountOf(m, key);
    const boundary = liquidationPrice(account, mmr);
    assert.ok(boundary !== null);
    // The highest price at which the long breaches.
    const last = isLiquidatable(account, rates, boundary) ? boundary : boundary - 1n;
    assert.ok(isLiquidatable(account, rates, last) && !isLiquidatable(account, rates, last + 1n));
    await setFeedAnswer(m, ['base'], last / 10n ** 10n);

    const healthy = await attestation({ low: last - usd(3n), median: last, high: last + 1n });
    const r = await refusal(key, healthy, await sign(healthy));
    assert.equal(r.name, 'NotLiquidatable');
    assert.deepEqual([...r.args], [equity(account, last + 1n), maintenanceMargin(account.position, mmr, last + 1n)]);

    const breached = await attestation({ low: last - usd(3n), median: last, high: last });
    const logs = await mined(m, asKeeper(), 'liquidate', key, struct(breached), await sign(breached));
    assert.ok(liquidationOf(logs) !== undefined);
  });

  it('does not liquidate a long healthy at the attested high, nor a short healthy at the attested low (NotLiquidatable)', async () => {
    const m = devnet().manifest;
    for (const [key, answer8] of [[keyOf(t0, 1n), 2_810_00000000n], [keyOf(t1, 2n), 3_171_00000000n]] as const) {
      await setFeedAnswer(m, ['base'], answer8);
      const account = await accountOf(m, key);
      const boundary = liquidationPrice(account, mmr) as bigint;
      const a = await attestation({ low: boundary - usd(5n), median: boundary, high: boundary + usd(5n) });
      const conservative = account.position.side === Side.Long ? a.high : a.low;
      const optimistic = account.position.side === Side.Long ? a.low : a.high;
      assert.ok(isLiquidatable(account, rates, optimistic) && !isLiquidatable(account, rates, conservative), 'one end breaches, the conservative one does not');
      const r = await refusal(key, a, await sign(a));
      assert.equal(r.name, 'NotLiquidatable', account.position.side);
      assert.deepEqual([...r.args], [equity(account, conservative), maintenanceMargin(account.position, mmr, conservative)]);
    }
    // The short breaches once the low is past its boundary.
    const key = keyOf(t1, 2n);
    const boundary = liquidationPrice(await accountOf(m, key), mmr) as bigint;
    const a = await attestation({ low: boundary + usd(1n), median: boundary + usd(2n), high: boundary + usd(5n) });
    const logs = await mined(m, asKeeper(), 'liquidate', key, struct(a), await sign(a));
    assert.deepEqual([...(liquidationOf(logs)?.args ?? [])].slice(0, 3), [key, MARKET, a.low]);
  });

  it('refuses a single attester (TooFewSigners)', async () => {
    const a = await breachedAt2800();
    const r = await refusal(keyOf(t0, 1n), a, await sign(a, attesters().slice(1, 2)));
    assert.equal(r.name, 'TooFewSigners');
    assert.deepEqual([...r.args], [1n, 2n]);
  });

  it('refuses a signer that is not an attester: the DVN signer, the gas key, an attester signing for another domain (UnknownOrUnsortedSigner)', async () => {
    const m = devnet().manifest;
    const a = await breachedAt2800();
    const [first] = attesters() as [Wallet];
    for (const outsider of [m.accounts.dvnSigner, m.accounts.relayer]) {
      const r = await refusal(keyOf(t0, 1n), a, await sign(a, [first, new Wallet(outsider.privateKey)]));
      assert.equal(r.name, 'UnknownOrUnsortedSigner');
      assert.deepEqual([...r.args], [getAddress(outsider.address)]);
    }
    // Signed by two attesters, but for the same contract address on arbitrum: worthless on base.
    const elsewhere = await signAttestation(a, attesters().slice(0, 2), attestationDomain(ARBITRUM, m.chains.base?.contracts.attestations as string));
    const r = await refusal(keyOf(t0, 1n), a, elsewhere);
    assert.equal(r.name, 'UnknownOrUnsortedSigner');
    assert.ok(!attesters().some((w) => w.address === r.args[0]), 'it recovers to nobody known');
  });

  it('refuses the same attester twice, and signatures out of signer order (UnknownOrUnsortedSigner)', async () => {
    const a = await breachedAt2800();
    const [one] = await sign(a, attesters().slice(0, 1));
    const twice = await refusal(keyOf(t0, 1n), a, [one as string, one as string]);
    assert.equal(twice.name, 'UnknownOrUnsortedSigner');
    assert.deepEqual([...twice.args], [attesters()[0]?.address]);

    const sorted = await sign(a);
    const unsorted = await refusal(keyOf(t0, 1n), a, [...sorted].reverse());
    assert.equal(unsorted.name, 'UnknownOrUnsortedSigner');
    const addresses = attesters().slice(0, 2).map((w) => w.address).sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
    assert.deepEqual([...unsorted.args], [addresses[0]], 'the second signature is the lower signer');
  });

  it('refuses an attestation past its deadline (AttestationExpired)', async () => {
    const m = devnet().manifest;
    const now = await chainNow(m);
    const a = await breachedAt2800({ timestamp: now, deadline: now + 30n });
    const signatures = await sign(a);
    await asKeeper().getFunction('liquidate').staticCall(keyOf(t0, 1n), struct(a), signatures); // valid until then
    await advance(m, 60);
    const r = await refusal(keyOf(t0, 1n), a, signatures);
    assert.equal(r.name, 'AttestationExpired');
    assert.deepEqual([...r.args], [a.deadline]);
  });

  it('refuses prices read more than maxAttestationAge ago, or in the future (AttestationStale)', async () => {
    const m = devnet().manifest;
    const now = await chainNow(m);
    const a = await breachedAt2800({ timestamp: now, deadline: now + 3_600n });
    const signatures = await sign(a);
    await asKeeper().getFunction('liquidate').staticCall(keyOf(t0, 1n), struct(a), signatures); // fresh now
    await advance(m, 120 + 30);
    const stale = await refusal(keyOf(t0, 1n), a, signatures);
    assert.equal(stale.name, 'AttestationStale');
    assert.deepEqual([...stale.args], [a.timestamp]);

    const later = await chainNow(m);
    const future = await breachedAt2800({ timestamp: later + 600n, deadline: later + 3_600n });
    const ahead = await refusal(keyOf(t0, 1n), future, await sign(future));
    assert.equal(ahead.name, 'AttestationStale');
  });

  it('serves any number of positions with one attestation while it is fresh: liquidateMany clears the breached in one transaction and skips the rest', async () => {
    const m = devnet().manifest;
    const a = await breachedAt2800();
    const signatures = await sign(a);
    const digest = attestationDigest(a, domain());
    // Used once already, it still liquidates another position.
    await mined(m, asKeeper(), 'liquidate', keyOf(t0, 1n), struct(a), signatures);
    // The batch: t0 #1 (just liquidated: flat), t0 #2 (healthy long), t1 #1 (breached long), t1 #2 (healthy short), a key nobody holds.
    // t1 #1 twice: once brought back above maintenance, it is not liquidated again by the same range.
    const keys = [keyOf(t0, 1n), keyOf(t0, 2n), keyOf(t1, 1n), keyOf(t1, 1n), keyOf(t1, 2n), id('nobody')];
    assert.ok(isLiquidatable(await accountOf(m, keyOf(t1, 1n)), rates, a.high));
    assert.ok(!isLiquidatable(await accountOf(m, keyOf(t0, 2n)), rates, a.high));
    assert.ok(!isLiquidatable(await accountOf(m, keyOf(t1, 2n)), rates, a.low));
    const before = await Promise.all([keyOf(t0, 2n), keyOf(t1, 2n)].map((k) => snapshotOf(m, k)));
    const accountOfBefore = accountOf(m, keyOf(t1, 1n));
    const logs = await mined(m, asKeeper(), 'liquidateMany', keys, struct(a), signatures);
    const plan = liquidationPlan(await accountOfBefore, mmr, PENALTY_RATE, a.high);
    assert.deepEqual(logs.filter((l) => l.name === 'PositionPartiallyLiquidated').map((l) => [...l.args]), [[keyOf(t1, 1n), MARKET, a.high, digest, plan.closeSize, plan.penalty]]);
    assert.equal(logs.filter((l) => l.name === 'PositionLiquidated' || l.name === 'SettlementQueued').length, 0, 'brought back, not closed');
    assert.deepEqual(await Promise.all([keyOf(t0, 2n), keyOf(t1, 2n)].map((k) => snapshotOf(m, k))), before, 'the healthy are untouched');
    // Nothing left to liquidate is not an error for a batch; a bad attestation still is.
    const again = await mined(m, asKeeper(), 'liquidateMany', keys, struct(a), signatures);
    assert.deepEqual(again.map((l) => l.name), []);
    assert.equal((await reverted(asKeeper(), 'liquidateMany', keys, struct(a), signatures.slice(0, 1))).name, 'TooFewSigners');
  });

  it('refuses an attestation of another market (WrongMarket), and a position without exposure (NothingToLiquidate)', async () => {
    const other = id('BTC-USD');
    const a = await breachedAt2800({ market: other });
    const r = await refusal(keyOf(t0, 1n), a, await sign(a));
    assert.equal(r.name, 'WrongMarket');
    assert.deepEqual([...r.args], [MARKET, other]);

    const b = await breachedAt2800();
    assert.equal((await refusal(keyOf(t0, 9n), b, await sign(b))).name, 'NothingToLiquidate');
  });

  it('refuses fewer than two attested chains (TooFewChains), and chains or prices out of order (AttestationMalformed)', async () => {
    for (const chains of [[BASE], []]) {
      const a = await breachedAt2800({ chains });
      const r = await refusal(keyOf(t0, 1n), a, await sign(a));
      assert.equal(r.name, 'TooFewChains', `chains ${chains.join(',')}`);
      assert.deepEqual([...r.args], [BigInt(chains.length), 2n]);
    }
    for (const o of [{ chains: [ARBITRUM, OPTIMISM] }, { chains: [OPTIMISM, OPTIMISM] }, { low: usd(2_801n) }, { high: usd(2_799n) }]) {
      const a = await breachedAt2800(o);
      assert.equal((await refusal(keyOf(t0, 1n), a, await sign(a))).name, 'AttestationMalformed', JSON.stringify(o, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    }
  });

  it('a manipulated destination oracle alone cannot liquidate: the honest chains\' range is too far from it (OracleDeviation)', async () => {
    const m = devnet().manifest;
    const key = keyOf(t0, 1n);
    await setFeedAnswer(m, ['base'], 2_800_00000000n); // base only; arbitrum and optimism stay at 3 000
    const config = testConfig(m);
    const readings = await readAllChains(['arbitrum', 'optimism', 'base'].map((name) => {
      const c = m.chains[name];
      const cfg = config.chains[name];
      if (c === undefined || cfg === undefined) throw new Error(`no chain ${name}`);
      return { client: new ChainClient(name, cfg), feeds: { priceFeed: c.contracts.ethUsdFeed, sequencerFeed: c.contracts.sequencerFeed } };
    }));
    const now = readings.reduce((t, r) => (r.blockTimestamp !== undefined && r.blockTimestamp > t ? r.blockTimestamp : t), 0n);
    const honest = reconcilePrices(readings, {
      quorum: 2, maxDeviationBps: 200, chains: Object.fromEntries(['arbitrum', 'optimism', 'base'].map((c) => [c, { heartbeatSeconds: 3_600, sequencerGraceSeconds: 0 }])),
    }, now);
    assert.ok(honest.ok);
    assert.deepEqual(honest.excluded.map((x) => [x.chain, x.reason]), [['base', 'deviation']]);
    assert.deepEqual([honest.low, honest.median, honest.high], [usd(3_000n), usd(3_000n), usd(3_000n)]);

    const account = await accountOf(m, key);
    assert.ok(isLiquidatable(account, rates, usd(2_800n)) && !isLiquidatable(account, rates, honest.high), 'liquidatable by base\'s price alone');
    const chains = honest.sources.map((s) => BigInt(m.chains[s.chain]?.chainId ?? 0)).sort((x, y) => (x < y ? -1 : 1));
    const a = await attestation({ low: honest.low, median: honest.median, high: honest.high }, { chains });
    const r = await refusal(key, a, await sign(a));
    assert.equal(r.name, 'OracleDeviation');
    assert.deepEqual([...r.args], [usd(2_800n), usd(3_000n)]);
  });
});
