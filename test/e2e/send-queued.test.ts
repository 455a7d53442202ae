// Queued settlements nobody else sends: a lock of a token its position does not take is refunded
// (a RELEASE queued on base); the keeper sends it once past its grace, the relayer delivers it and
// the trader's WETH on arbitrum is back. A send that fails (the keeper's key cannot pay) is warned
// about, counted, and sent on a later tick. `isorelay send-queued` lists and sends one for anyone.
// Nothing is sent twice: one SettlementSent, one SettlementExecuted; sendQueuedMany skips a sent id.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Contract, Wallet } from 'ethers';
import { stringify } from 'yaml';
import type { Relayer } from '../../relayer/app/relayer.js';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import type { Config } from '../../relayer/config/schema.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { devnetRelayerConfig } from '../../relayer/devnet/relayerConfig.js';
import type { Keeper } from '../../relayer/liquidation/keeper.js';
import { describeEvent } from '../../relayer/ops/logger.js';
import { createMetrics, type Metrics } from '../../relayer/ops/metrics.js';
import type { RelayerEvent } from '../../relayer/pipeline/events.js';
import type { Store } from '../../relayer/store/store.js';
import { cli } from '../setup/cli.js';
import { engine, lock, makeRelayer, provider, testConfig, tickUntil, tokenBalance, trader, useSharedDevnet } from '../setup/devnet.js';
import { CHAIN_ID, mined, settlementFee } from '../setup/engineCalls.js';
import { testKeeper } from '../setup/strategies.js';

const ETH = 10n ** 18n;
const NOT_QUEUED = `0x${'0'.repeat(64)}`;
type SettlementSent = Extract<RelayerEvent, { type: 'keeper.settlementSent' }>;

interface Setup { relayer: Relayer; store: Store; keeper: Keeper; events: RelayerEvent[]; metrics: Metrics; config: Config }

describe('queued settlements: the keeper sends what nobody sent; isorelay send-queued for anyone', function () {
  this.timeout(60_000);
  const devnet = useSharedDevnet();
  const open: Metrics[] = [];
  afterEach(() => {
    for (const m of open.splice(0)) m.dispose();
  });

  /** A relayer and its keeper (a grace of 1 s; no volatility posts), their events and metrics. */
  function setup(m: DevnetManifest): Setup {
    const config = testConfig(m, (raw) => {
      if (raw.keeper === undefined) return;
      raw.keeper.sendQueued = { graceSeconds: 1 };
      raw.keeper.volatility = { enabled: false };
    });
    const { relayer, store } = makeRelayer(m, { config });
    const events: RelayerEvent[] = [];
    relayer.events.on((e) => events.push(e));
    const metrics = createMetrics(relayer.events);
    open.push(metrics);
    return { relayer, store, keeper: testKeeper(m, relayer, config), events, metrics, config };
  }

  const weth = (m: DevnetManifest) => m.chains.arbitrum?.contracts.weth as string;
  const trader0 = (m: DevnetManifest) => m.accounts.traders[0]?.address as string;
  const sentEvents = (s: Setup): SettlementSent[] => s.events.filter((e): e is SettlementSent => e.type === 'keeper.settlementSent');
  const queuedHash = async (m: DevnetManifest, id: bigint) => (await engine(m).getFunction('queuedSettlements')(id)) as string;

  /**
   * Position `positionId` of trader 0 bound by a USDC credit from arbitrum, then 1 WETH locked for it:
   * refunded, a RELEASE queued. Returns its id and settlement, and the trader's WETH before the lock.
   */
  async function refund(m: DevnetManifest, s: Setup, positionId: bigint): Promise<{ id: bigint; settlement: unknown[]; wethBefore: bigint }> {
    const usdcLock = await lock(m, 'arbitrum', { amount: 100_000_000n, positionId });
    await tickUntil(s.relayer, async () => (await s.store.list({ status: 'delivered' })).some((r) => r.messageId === usdcLock.lockId));
    const wethBefore = await tokenBalance(m, 'arbitrum', weth(m), trader0(m));
    const wethLock = await lock(m, 'arbitrum', { asset: 'weth', amount: ETH, positionId });
    await tickUntil(s.relayer, async () => (await s.store.list({ status: 'delivered' })).some((r) => r.messageId === wethLock.lockId));
    const logs = await engine(m).queryFilter('SettlementQueued', 0, 'latest');
    assert.equal(logs.length, 1, 'one settlement queued: the refund');
    const [id, dst, settlement] = (logs[0] as unknown as { args: [bigint, bigint, unknown[]] }).args;
    assert.deepEqual([dst, settlement[2], settlement[4], settlement[5]], [CHAIN_ID.arbitrum, trader0(m), weth(m), ETH], 'a RELEASE of the WETH to the trader on arbitrum');
    assert.notEqual(await queuedHash(m, id), NOT_QUEUED);
    return { id, settlement: [...settlement], wethBefore };
  }

  /** The engine's SettlementSent and the arbitrum vault's SettlementExecuted of trader 0's WETH: the ground truth of "once". */
  async function sentAndExecuted(m: DevnetManifest): Promise<{ sent: string[]; executed: string[] }> {
    const sent = (await engine(m).queryFilter('SettlementSent', 0, 'latest')).map((l) => l.topics[1] as string);
    const vault = new Contract(m.chains.arbitrum?.contracts.vault as string, ourArtifact('CollateralVault').abi, provider(m, 'arbitrum'));
    const executed = (await vault.queryFilter('SettlementExecuted', 0, 'latest')).map((l) => l.topics[1] as string);
    for (const id of executed) assert.equal(await vault.getFunction('executed')(id), true);
    return { sent, executed };
  }

  const releaseDelivered = (s: Setup) => async () => (await s.store.list({})).some((r) => r.kind === 'RELEASE' && r.status === 'delivered');
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const sample = async (s: Setup, series: string) => {
    const line = (await s.metrics.registry.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('sends a refunded lock\'s RELEASE once past the grace; it is delivered and the trader\'s WETH is back; nothing is sent twice', async () => {
    const m = devnet().manifest;
    const s = setup(m);
    const { id, wethBefore } = await refund(m, s, 91n);
    await s.keeper.tick();
    assert.deepEqual(sentEvents(s), [], 'within the grace: left to whoever queued it');
    await sleep(1_100);
    await s.keeper.tick();
    const [sent, ...more] = sentEvents(s);
    assert.deepEqual(more, []);
    assert.deepEqual([sent?.id, sent?.ok, sent?.skipped, sent?.chain, sent?.kind, sent?.amount, sent?.token], [id, true, undefined, 'arbitrum', 'RELEASE', ETH, weth(m)]);
    assert.match(sent?.messageId ?? '', /^0x[0-9a-f]{64}$/);
    assert.equal(describeEvent(sent as RelayerEvent).level, 'info');
    assert.equal(await queuedHash(m, id), NOT_QUEUED, 'sent on the engine');
    assert.equal(await sample(s, 'isorelay_queued_settlements_sent_total{chain="arbitrum",kind="RELEASE",ok="true"}'), 1);
    assert.equal(await sample(s, 'isorelay_queued_settlements{chain="arbitrum"}'), 0);

    await tickUntil(s.relayer, releaseDelivered(s));
    assert.equal(await tokenBalance(m, 'arbitrum', weth(m), trader0(m)), wethBefore, 'the refund is back on arbitrum');
    await sleep(1_100);
    await s.keeper.tick();
    assert.equal(sentEvents(s).length, 1, 'not sent again');
    assert.deepEqual(await sentAndExecuted(m), { sent: [sent?.messageId], executed: [sent?.messageId] });
  });

  it('warns and counts a send that fails (the keeper\'s key cannot pay the fee) and sends it on a later tick', async () => {
    const m = devnet().manifest;
    const s = setup(m);
    const { id, wethBefore } = await refund(m, s, 92n);
    await s.keeper.tick(); // seen: the grace runs from here
    const base = provider(m, 'base');
    const relayerKey = m.accounts.relayer.address;
    const balance = await base.getBalance(relayerKey);
    await base.send('anvil_setBalance', [relayerKey, '0x0']);
    await sleep(1_100);
    await s.keeper.tick();
    const [failed] = sentEvents(s);
    assert.deepEqual([failed?.id, failed?.ok, failed?.chain, failed?.kind, failed?.amount], [id, false, 'arbitrum', 'RELEASE', ETH]);
    assert.match(failed?.reason ?? '', /^not simulated: .*insufficient funds/i);
    const line = describeEvent(failed as RelayerEvent);
    assert.equal(line.level, 'warn');
    assert.match(line.msg, new RegExp(`^queued settlement ${id} \\(RELEASE of ${ETH} of token ${weth(m)} to ${trader0(m)} on arbitrum\\) not sent, it stays queued .*isorelay send-queued --id ${id}`));
    assert.equal(await sample(s, 'isorelay_queued_settlements_sent_total{chain="arbitrum",kind="RELEASE",ok="false"}'), 1);
    assert.equal(await sample(s, 'isorelay_queued_settlements{chain="arbitrum"}'), 1, 'pending');
    assert.notEqual(await queuedHash(m, id), NOT_QUEUED, 'still queued');

    await base.send('anvil_setBalance', [relayerKey, `0x${balance.toString(16)}`]);
    await s.keeper.tick();
    assert.equal(sentEvents(s).length, 1, 'not tried again before its retry time');
    await sleep(1_100);
    await s.keeper.tick();
    const sent = sentEvents(s)[1];
    assert.deepEqual([sent?.id, sent?.ok], [id, true]);
    assert.equal(await sample(s, 'isorelay_queued_settlements{chain="arbitrum"}'), 0);
    await tickUntil(s.relayer, releaseDelivered(s));
    assert.equal(await tokenBalance(m, 'arbitrum', weth(m), trader0(m)), wethBefore);
    assert.deepEqual(await sentAndExecuted(m), { sent: [sent?.messageId], executed: [sent?.messageId] });
  });

  it('isorelay send-queued lists a waiting refund and sends it with the trader key; again: already sent; sendQueuedMany and the keeper skip it', async () => {
    const m = devnet().manifest;
    const s = setup(m);
    const { id, settlement, wethBefore } = await refund(m, s, 93n);
    await s.keeper.tick(); // it follows the refund from here on
    const dir = mkdtempSync(join(tmpdir(), 'isorelay-send-queued-'));
    try {
      const configFile = join(dir, 'relayer.yaml');
      writeFileSync(configFile, stringify(devnetRelayerConfig(m, { sqlite: join(dir, 'relayer.sqlite'), logLevel: 'silent' })));
      const env = { ISORELAY_TRADER_KEY: m.accounts.traders[0]?.privateKey as string };
      const [list, json, unknown, nokey] = await Promise.all([
        cli(['send-queued', '-c', configFile], {}),
        cli(['send-queued', '-c', configFile, '--trader', trader0(m), '--json'], {}),
        cli(['send-queued', '-c', configFile, '--id', '999'], env),
        cli(['send-queued', '-c', configFile, '--id', String(id)], {}),
      ]);
      assert.equal(list.code, 0, list.stdout + list.stderr);
      assert.match(list.stdout, /^queued settlements on base \(engine 0x[0-9a-fA-F]{40}\): 1 waiting, 0 sent$/m);
      assert.match(list.stdout, new RegExp(`^ +${id} {2}RELEASE 1 WETH to ${trader0(m)} on arbitrum \\(position 93\\) {2}WAITING {2}queued in 0x[0-9a-f]{64} \\(block \\d+\\)$`, 'm'));
      assert.match(list.stdout, /^nothing sent: send one with --id N, or every one waiting with --all/m);
      const listed = (JSON.parse(json.stdout) as { settlements: Record<string, unknown>[] }).settlements;
      assert.deepEqual(listed.map((x) => [x.id, x.kind, x.chain, x.amount, x.amountText, x.waiting]), [[String(id), 'RELEASE', 'arbitrum', String(ETH), '1 WETH', true]]);
      assert.equal(unknown.code, 2, unknown.stderr);
      assert.match(unknown.stderr, /^USAGE: no settlement 999 on base: the engine has queued 1 so far$/m);
      assert.equal(nokey.code, 1, nokey.stderr);
      assert.match(nokey.stderr, /^SECRET_MISSING: the trader key is not set: environment variable ISORELAY_TRADER_KEY is empty/m);
      assert.notEqual(await queuedHash(m, id), NOT_QUEUED, 'nothing sent by the refusals');

      const r = await cli(['send-queued', '-c', configFile, '--id', String(id)], env);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^sent on base: tx 0x[0-9a-f]{64} \(block \d+\), messaging fee \d+ wei$/m);
      const messageId = new RegExp(`^ {2}settlement ${id}: the vault's message (0x[0-9a-f]{64}); a relayer delivers it to the vault$`, 'm').exec(r.stdout)?.[1];
      assert.ok(messageId !== undefined, r.stdout);
      assert.equal(await queuedHash(m, id), NOT_QUEUED);
      const [again, all] = await Promise.all([cli(['send-queued', '-c', configFile, '--id', String(id)], env), cli(['send-queued', '-c', configFile, '--all'], env)]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`^settlement ${id} was already sent: nothing to do$`, 'm'));
      assert.equal(all.code, 0, all.stderr);
      assert.match(all.stdout, /^queued settlements on base \(engine 0x[0-9a-fA-F]{40}\): 0 waiting, 1 sent$/m);
      assert.match(all.stdout, /^no queued settlement waits: nothing to send$/m);

      // Someone's batch with the sent id: skipped, the fee refunded, nothing sent.
      const other = engine(m, new Wallet(trader(m, 'base', 1).privateKey, provider(m, 'base')));
      const logs = await mined(m, other, 'sendQueuedMany', [id], [settlement], { value: await settlementFee(other, CHAIN_ID.arbitrum as bigint) });
      assert.deepEqual(logs.map((l) => l.name), [], 'skipped');
      await sleep(1_100);
      await s.keeper.tick();
      assert.deepEqual(sentEvents(s), [], 'the keeper found it sent');
      await tickUntil(s.relayer, releaseDelivered(s));
      assert.equal(await tokenBalance(m, 'arbitrum', weth(m), trader0(m)), wethBefore);
      assert.deepEqual(await sentAndExecuted(m), { sent: [messageId], executed: [messageId] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
