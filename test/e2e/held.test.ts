// The liquidation guard on the return path: a SEIZE leaves for its source chain only if that chain's
// own oracle agrees with the price the engine seized at. Otherwise it is held, counted and logged,
// and an operator releases it (delivered) or rejects it (dead) with `isorelay held`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { stringify } from 'yaml';
import type { Relayer } from '../../relayer/app/relayer.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { devnetRelayerConfig } from '../../relayer/devnet/relayerConfig.js';
import { createMetrics, type Metrics } from '../../relayer/ops/metrics.js';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import type { Store } from '../../relayer/store/store.js';
import { cli } from '../setup/cli.js';
import { engine, lock, makeRelayer, minedOn, provider, setEthUsd, testConfig, tickUntil, tokenBalance, trader, useSharedDevnet } from '../setup/devnet.js';

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

  afterEach(() => {
    metrics.dispose();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A 1 ETH long on 1000 USDC from arbitrum, closed at `closeAt` on base: RELEASE + SEIZE. */
  async function closeAtALoss(m: DevnetManifest, closeAt: bigint, priceChains: string[]): Promise<{ seizeId: string; seized: bigint }> {
    await lock(m, 'arbitrum', { amount: 1_000_000_000n, positionId: 11n });
    await tickUntil(relayer, () => store.list({ status: 'delivered' }).length === 1);
    const e = engine(m, new Wallet(trader(m, 'base', 0).privateKey, provider(m, 'base')));
    await minedOn(m, 'base', e.getFunction('increase').send(11n, m.market.id, LONG, 10n ** 18n));
    await setEthUsd(m, priceChains, closeAt);
    await minedOn(m, 'base', e.getFunction('close').send(11n));
    await tickUntil(relayer, () => store.list({}).some((r) => r.kind === 'SEIZE' && (r.status === 'held' || r.status === 'delivered')));
    await tickUntil(relayer, () => store.list({}).some((r) => r.kind === 'RELEASE' && r.status === 'delivered'));
    const seize = store.list({}).find((r) => r.kind === 'SEIZE');
    const sent = await engine(m).queryFilter('SettlementSent', 0, 'latest');
    const seizedLog = sent.map((l) => engine(m).interface.parseLog(l)).find((p) => p?.args[2] === 3n);
    return { seizeId: seize?.id as string, seized: seizedLog?.args[6] as bigint };
  }

  it('delivers a SEIZE at once when the source chain agrees with the price', async () => {
    const m = devnet().manifest;
    const usdc = m.chains.arbitrum?.contracts.usdc as string;
    const fund = m.accounts.insuranceFund.address;
    const before = await tokenBalance(m, 'arbitrum', usdc, fund);
    const { seizeId, seized } = await closeAtALoss(m, 2_500n, ['arbitrum', 'optimism', 'base']);
    await tickUntil(relayer, () => store.get(seizeId)?.status === 'delivered');
    // 1 ETH long from 3000 to 2500: −500 USD, fees 3 + 2.5 USD → 505.5 USDC seized.
    assert.equal(seized, 505_500_000n);
    assert.equal(await tokenBalance(m, 'arbitrum', usdc, fund), before + seized, 'the insurance fund got exactly the loss');
  });

  it('holds a SEIZE the source chain\'s oracle disagrees with; release delivers it, once', async () => {
    const m = devnet().manifest;
    const usdc = m.chains.arbitrum?.contracts.usdc as string;
    const fund = m.accounts.insuranceFund.address;
    const before = await tokenBalance(m, 'arbitrum', usdc, fund);
    // Only base moves: arbitrum still says 3000, the engine seized at 2500.
    const { seizeId, seized } = await closeAtALoss(m, 2_500n, ['base']);
    for (let i = 0; i < 5; i++) await relayer.tick();
    const held = store.get(seizeId);
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
    await tickUntil(relayer, () => store.get(seizeId)?.status === 'delivered');
    assert.equal(await tokenBalance(m, 'arbitrum', usdc, fund), before + seized);
    const again = await cli(['held', 'release', seizeId, '-c', configFile], {});
    assert.equal(again.code, 2);
    assert.match(again.stderr, /is delivered, not held/);
  });

  it('never lets a held SEIZE block its path: a RELEASE sent after it is delivered while it is held', async () => {
    const m = devnet().manifest;
    const { seizeId } = await closeAtALoss(m, 2_500n, ['base']);
    assert.equal(store.get(seizeId)?.status, 'held');
    const seizeNonce = store.get(seizeId)?.sequence?.nonce ?? 0n;
    // A second position, margined from arbitrum too, closed flat: its RELEASE follows the held SEIZE on base → arbitrum.
    await setEthUsd(m, ['base'], 3_000n);
    await lock(m, 'arbitrum', { amount: 500_000_000n, positionId: 12n, trader: 1 });
    await tickUntil(relayer, () => store.list({ status: 'delivered' }).filter((r) => r.kind === 'CREDIT').length === 2);
    const e = engine(m, new Wallet(trader(m, 'base', 1).privateKey, provider(m, 'base')));
    await minedOn(m, 'base', e.getFunction('close').send(12n));
    await tickUntil(relayer, () => store.list({ status: 'delivered' }).some((r) => r.kind === 'RELEASE' && (r.sequence?.nonce ?? 0n) > seizeNonce));
    assert.equal(store.get(seizeId)?.status, 'held', 'the SEIZE stays held: only its verification went ahead');
  });

  it('reject makes a held SEIZE dead: never delivered', async () => {
    const m = devnet().manifest;
    const usdc = m.chains.arbitrum?.contracts.usdc as string;
    const fund = m.accounts.insuranceFund.address;
    const before = await tokenBalance(m, 'arbitrum', usdc, fund);
    const { seizeId } = await closeAtALoss(m, 2_500n, ['base']);
    assert.equal(store.get(seizeId)?.status, 'held');
    const reject = await cli(['held', 'reject', seizeId, '-c', configFile, '--reason', 'base feed manipulated'], {});
    assert.equal(reject.code, 0, reject.stderr);
    for (let i = 0; i < 5; i++) await relayer.tick();
    const row = store.get(seizeId);
    assert.equal(row?.status, 'dead');
    assert.equal(row?.lastError, 'rejected by the operator: base feed manipulated');
    assert.equal(await tokenBalance(m, 'arbitrum', usdc, fund), before);
  });
});
