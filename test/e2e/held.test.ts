// The liquidation guard on the return path: a SEIZE leaves for its source chain only if that chain's
// own oracle agrees with the price the engine seized at. Otherwise it is held, counted and logged,
// and an operator releases it (delivered) or rejects it (dead) with `isorelay held`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Contract, Wallet, ZeroHash } from 'ethers';
import { stringify } from 'yaml';
import type { Relayer } from '../../relayer/app/relayer.js';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import { decodeMessage, messageId } from '../../relayer/messages/codec.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { devnetRelayerConfig } from '../../relayer/devnet/relayerConfig.js';
import { createMetrics, type Metrics } from '../../relayer/ops/metrics.js';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import type { Store } from '../../relayer/store/store.js';
import { cli } from '../setup/cli.js';
import { engine, lock, makeRelayer, minedOn, provider, setEthUsd, testConfig, tickUntil, tokenBalance, trader, useSharedDevnet } from '../setup/devnet.js';
import { FEES } from '../setup/engineCalls.js';

const LONG = 0;

describe('held SEIZE: the source chain\'s oracle must agree', function () {
  this.timeout(120_000);
  const devnet = useSharedDevnet();
  let dir: string;
  let store: Store;
  let relayer: Relayer;
  let configFile: string;
  let metrics: Metrics;

  beforeEach(() => {
    const m = devnet().manifest;
    dir = mkdtempSync(join(tmpdir(), 'isorelay-held-'));
    const sqlite = join(dir, 'relayer.sqlite');
    configFile = join(dir, 'relayer.yaml');
    writeFileSync(configFile, stringify(devnetRelayerConfig(m, { sqlite, logLevel: 'silent' })));
    store = SqliteStore.open(sqlite);
    ({ relayer } = makeRelayer(m, { config: testConfig(m), store }));
    metrics = createMetrics(relayer.events);
  });

  afterEach(async () => {
    metrics.dispose();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A 1 ETH long on 1000 USDC from `source` (arbitrum unless said), closed at `closeAt` on base: RELEASE + SEIZE. */
  async function closeAtALoss(m: DevnetManifest, closeAt: bigint, priceChains: string[], source = 'arbitrum', positionId = 11n): Promise<{ seizeId: string; seized: bigint }> {
    await lock(m, source, { amount: 1_000_000_000n, positionId });
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).some((r) => r.kind === 'CREDIT' && r.srcChain === source));
    const e = engine(m, new Wallet(trader(m, 'base', 0).privateKey, provider(m, 'base')));
    await minedOn(m, 'base', e.getFunction('increase').send(positionId, m.market.id, LONG, 10n ** 18n));
    await setEthUsd(m, priceChains, closeAt);
    const fee = (await e.getFunction('quoteSettlement')(BigInt(m.chains[source]?.chainId ?? 0))) as bigint;
    await minedOn(m, 'base', e.getFunction('close').send(positionId, { value: 2n * fee }));
    const mine = (r: { kind: string | null; dstChain: string }) => r.dstChain === source;
    await tickUntil(relayer, async () => (await store.list({})).some((r) => mine(r) && r.kind === 'SEIZE' && (r.status === 'held' || r.status === 'delivered')));
    await tickUntil(relayer, async () => (await store.list({})).some((r) => mine(r) && r.kind === 'RELEASE' && r.status === 'delivered'));
    const seize = (await store.list({})).find((r) => mine(r) && r.kind === 'SEIZE');
    const sent = await engine(m).queryFilter('SettlementSent', 0, 'latest');
    const seizedLog = sent.map((l) => engine(m).interface.parseLog(l)).find((p) => p?.args[2] === 3n && p.args[1] === BigInt(m.chains[source]?.chainId ?? 0));
    return { seizeId: seize?.id as string, seized: seizedLog?.args[6] as bigint };
  }

  it('delivers a SEIZE at once when the source chain agrees with the price', async () => {
    const m = devnet().manifest;
    const usdc = m.chains.arbitrum?.contracts.usdc as string;
    const fund = m.accounts.insuranceFund.address;
    const before = await tokenBalance(m, 'arbitrum', usdc, fund);
    const { seizeId, seized } = await closeAtALoss(m, 2_500n, ['arbitrum', 'optimism', 'base']);
    await tickUntil(relayer, async () => (await store.get(seizeId))?.status === 'delivered');
    // 1 ETH long from 3000 to 2500: −500 USD, fees 3 + 2.5 USD → 505.5 USDC seized.
    assert.equal(seized, 505_500_000n);
    assert.equal(await tokenBalance(m, 'arbitrum', usdc, fund), before + seized, 'the insurance fund got exactly the loss');
  });

  it('holds a SEIZE the source chain\'s oracle disagrees with; released, the vault parks it until its own oracle agrees, then it executes once', async () => {
    const m = devnet().manifest;
    const usdc = m.chains.arbitrum?.contracts.usdc as string;
    const fund = m.accounts.insuranceFund.address;
    const before = await tokenBalance(m, 'arbitrum', usdc, fund);
    // Only base moves: arbitrum still says 3000, the engine seized at 2500.
    const { seizeId, seized } = await closeAtALoss(m, 2_500n, ['base']);
    for (let i = 0; i < 5; i++) await relayer.tick();
    const held = await store.get(seizeId);
    assert.equal(held?.status, 'held');
    assert.match(held?.lastError ?? '', /arbitrum's ETH-USD oracle says 3000\.0, the SEIZE was decided at 2500\.0: 2000 bps apart \(at most 200\)/);
    assert.equal(await tokenBalance(m, 'arbitrum', usdc, fund), before, 'nothing seized while held');
    assert.match(await metrics.registry.metrics(), /isorelay_messages_held_total\{route="base-arbitrum"\} 1/);

    const list = await cli(['held', 'list', '-c', configFile], {});
    assert.equal(list.code, 0, list.stderr);
    assert.ok(list.stdout.includes(seizeId), list.stdout);
    assert.match(list.stdout, /SEIZE on base-arbitrum/);

    const release = await cli(['held', 'release', seizeId, '-c', configFile, '--reason', 'arbitrum feed lagging, checked by hand'], {});
    assert.equal(release.code, 0, release.stderr);
    // The vault makes the same check on chain: delivered, it is parked while arbitrum's oracle disagrees.
    await tickUntil(relayer, async () => /parked by the vault: the vault's oracle price is too far/.test((await store.get(seizeId))?.lastError ?? ''));
    assert.equal(await tokenBalance(m, 'arbitrum', usdc, fund), before, 'nothing seized while the vault\'s oracle disputes it');
    // arbitrum's feed catches up: the relayer's re-check executes it on the vault (retrySeize), once.
    await setEthUsd(m, ['arbitrum'], 2_500n);
    await tickUntil(relayer, async () => (await store.get(seizeId))?.status === 'delivered');
    assert.equal(await tokenBalance(m, 'arbitrum', usdc, fund), before + seized);
    const again = await cli(['held', 'release', seizeId, '-c', configFile], {});
    assert.equal(again.code, 2);
    assert.match(again.stderr, /is delivered, not held/);
  });

  it('parks on chain a held Wormhole SEIZE that a third party delivers: nothing moves until the guardian releases it', async () => {
    const m = devnet().manifest;
    const usdc = m.chains.optimism?.contracts.usdc as string;
    const vaultAddress = m.chains.optimism?.contracts.vault as string;
    const fund = m.accounts.insuranceFund.address;
    const before = await tokenBalance(m, 'optimism', usdc, fund);
    const { seizeId, seized } = await closeAtALoss(m, 2_500n, ['base'], 'optimism', 21n);
    const row = await store.get(seizeId);
    assert.equal(row?.status, 'held');
    // Anyone can fetch the signed VAA and deliver it to the vault.
    const { chainId, emitter, sequence, payload } = JSON.parse(row?.payload ?? '{}') as { chainId: number; emitter: string; sequence: string; payload: string };
    const answer = (await (await fetch(`${devnet().guardian.url}/v1/signed_vaa/${chainId}/${emitter}/${sequence}`)).json()) as { vaaBytes: string };
    const outsider = new Wallet(trader(m, 'optimism', 1).privateKey, provider(m, 'optimism'));
    const vault = new Contract(vaultAddress, ourArtifact('CollateralVault').abi, outsider);
    await minedOn(m, 'optimism', vault.getFunction('receiveWormholeMessage').send('0x' + Buffer.from(answer.vaaBytes, 'base64').toString('hex')));
    const seize = decodeMessage(payload);
    const id = messageId(seize.originChainId, seize.origin, seize.nonce);
    assert.notEqual(await vault.getFunction('parkedSeizes')(id), ZeroHash, 'parked on chain');
    assert.equal(await vault.getFunction('executed')(id), false);
    assert.equal(await tokenBalance(m, 'optimism', usdc, fund), before, 'nothing moved');
    // Nobody but the guardian can force it; a re-check still disagrees.
    await assert.rejects(vault.getFunction('releaseSeize').staticCall(payload), /NotGuardian|revert/);
    await assert.rejects(vault.getFunction('retrySeize').staticCall(payload), /SeizeStillDisputed|revert/);

    const guardian = vault.connect(new Wallet(m.accounts.deployer.privateKey, provider(m, 'optimism'))) as Contract;
    await minedOn(m, 'optimism', guardian.getFunction('releaseSeize').send(payload));
    assert.equal(await tokenBalance(m, 'optimism', usdc, fund), before + seized, 'the guardian\'s release executed it, once');
    assert.equal(await vault.getFunction('executed')(id), true);
    // The operator releases the relayer's hold: it sees the SEIZE executed and records it delivered.
    assert.equal((await cli(['held', 'release', seizeId, '-c', configFile], {})).code, 0);
    await tickUntil(relayer, async () => (await store.get(seizeId))?.status === 'delivered');
    assert.equal(await tokenBalance(m, 'optimism', usdc, fund), before + seized);
  });

  it('lets the guardian return a parked SEIZE to the trader instead: once, and never also to the insurance fund', async () => {
    const m = devnet().manifest;
    const usdc = m.chains.optimism?.contracts.usdc as string;
    const fund = m.accounts.insuranceFund.address;
    const t = m.accounts.traders[0]?.address as string;
    const { seizeId, seized } = await closeAtALoss(m, 2_500n, ['base'], 'optimism', 23n);
    const { chainId, emitter, sequence, payload } = JSON.parse((await store.get(seizeId))?.payload ?? '{}') as { chainId: number; emitter: string; sequence: string; payload: string };
    const answer = (await (await fetch(`${devnet().guardian.url}/v1/signed_vaa/${chainId}/${emitter}/${sequence}`)).json()) as { vaaBytes: string };
    const vault = new Contract(m.chains.optimism?.contracts.vault as string, ourArtifact('CollateralVault').abi, new Wallet(trader(m, 'optimism', 1).privateKey, provider(m, 'optimism')));
    await minedOn(m, 'optimism', vault.getFunction('receiveWormholeMessage').send('0x' + Buffer.from(answer.vaaBytes, 'base64').toString('hex')));
    const [fundBefore, traderBefore] = [await tokenBalance(m, 'optimism', usdc, fund), await tokenBalance(m, 'optimism', usdc, t)];
    await assert.rejects(vault.getFunction('returnSeize').staticCall(payload), /NotGuardian|revert/);
    const guardian = vault.connect(new Wallet(m.accounts.deployer.privateKey, provider(m, 'optimism'))) as Contract;
    await minedOn(m, 'optimism', guardian.getFunction('returnSeize').send(payload));
    assert.equal(await tokenBalance(m, 'optimism', usdc, t), traderBefore + seized, 'back to the trader');
    assert.equal(await tokenBalance(m, 'optimism', usdc, fund), fundBefore, 'nothing to the fund');
    await assert.rejects(guardian.getFunction('releaseSeize').staticCall(payload), /NotParked|revert/);
  });

  it('never lets a held SEIZE block its path: a RELEASE sent after it is delivered while it is held', async () => {
    const m = devnet().manifest;
    const { seizeId } = await closeAtALoss(m, 2_500n, ['base']);
    assert.equal((await store.get(seizeId))?.status, 'held');
    const seizeNonce = (await store.get(seizeId))?.sequence?.nonce ?? 0n;
    // A second position, margined from arbitrum too, closed flat: its RELEASE follows the held SEIZE on base → arbitrum.
    await setEthUsd(m, ['base'], 3_000n);
    await lock(m, 'arbitrum', { amount: 500_000_000n, positionId: 12n, trader: 1 });
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).filter((r) => r.kind === 'CREDIT').length === 2);
    const e = engine(m, new Wallet(trader(m, 'base', 1).privateKey, provider(m, 'base')));
    await minedOn(m, 'base', e.getFunction('close').send(12n, FEES));
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).some((r) => r.kind === 'RELEASE' && (r.sequence?.nonce ?? 0n) > seizeNonce));
    assert.equal((await store.get(seizeId))?.status, 'held', 'the SEIZE stays held: only its verification went ahead');
  });

  it('guards two SEIZEs with the same outbound nonce to two chains each by its own price', async () => {
    const m = devnet().manifest;
    const e = engine(m, new Wallet(trader(m, 'base', 0).privateKey, provider(m, 'base')));
    await lock(m, 'arbitrum', { amount: 1_000_000_000n, positionId: 31n });
    await lock(m, 'optimism', { amount: 1_000_000_000n, positionId: 32n });
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 2);
    await minedOn(m, 'base', e.getFunction('increase').send(31n, m.market.id, LONG, 10n ** 18n));
    await minedOn(m, 'base', e.getFunction('increase').send(32n, m.market.id, LONG, 10n ** 18n));
    await setEthUsd(m, ['base', 'arbitrum'], 2_500n);
    await minedOn(m, 'base', e.getFunction('close').send(31n, FEES));
    await setEthUsd(m, ['base'], 2_600n);
    await minedOn(m, 'base', e.getFunction('close').send(32n, FEES));
    const seizeTo = async (chain: string) => (await store.list({})).find((r) => r.kind === 'SEIZE' && r.dstChain === chain);
    await tickUntil(relayer, async () => (await seizeTo('arbitrum'))?.status === 'delivered' && (await seizeTo('optimism'))?.status === 'held');
    // The engine numbers its messages per destination: both SEIZEs have the same origin and nonce, so the same message id.
    assert.equal((await seizeTo('arbitrum'))?.messageId, (await seizeTo('optimism'))?.messageId);
    assert.match((await seizeTo('optimism'))?.lastError ?? '', /optimism's ETH-USD oracle says 3000\.0, the SEIZE was decided at 2600\.0/);
  });

  it('reject makes a held SEIZE dead: never delivered', async () => {
    const m = devnet().manifest;
    const usdc = m.chains.arbitrum?.contracts.usdc as string;
    const fund = m.accounts.insuranceFund.address;
    const before = await tokenBalance(m, 'arbitrum', usdc, fund);
    const { seizeId } = await closeAtALoss(m, 2_500n, ['base']);
    assert.equal((await store.get(seizeId))?.status, 'held');
    const reject = await cli(['held', 'reject', seizeId, '-c', configFile, '--reason', 'base feed manipulated'], {});
    assert.equal(reject.code, 0, reject.stderr);
    for (let i = 0; i < 5; i++) await relayer.tick();
    const row = await store.get(seizeId);
    assert.equal(row?.status, 'dead');
    assert.equal(row?.lastError, 'rejected by the operator: base feed manipulated');
    assert.equal(await tokenBalance(m, 'arbitrum', usdc, fund), before);
  });
});
