// Oracle reconciliation against the devnet's real feeds: one request per chain (FeedSnapshot's
// creation code as an eth_call), chains in parallel; move one chain's oracle (and not the
// others), take one sequencer down; a misconfigured feed is a read error that names it.
import assert from 'node:assert/strict';
import { Contract, Wallet } from 'ethers';
import { ChainClient } from '../../relayer/chains/client.js';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { readAllChains, readChainFeeds, type ChainFeedsRead } from '../../relayer/oracle/readFeeds.js';
import { reconcilePrices, WAD, type FeedReading, type ReconcilePolicy } from '../../relayer/oracle/reconcile.js';
import { provider, testConfig, useSharedDevnet } from '../setup/devnet.js';
import { startFaultyRpc, type FaultyRpc } from '../setup/faultyRpc.js';
import { waitForReceipt } from '../../relayer/chains/provider.js';

const CHAINS = ['arbitrum', 'optimism', 'base'] as const;
function policy(quorum: number): ReconcilePolicy {
  // Grace 0: the devnet's sequencer feeds came up when it was deployed, moments ago.
  return { quorum, maxDeviationBps: 200, chains: Object.fromEntries(CHAINS.map((c) => [c, { heartbeatSeconds: 86_400, sequencerGraceSeconds: 0 }])) };
}

/** The latest block time over the chains: the `now` the readings were taken at. */
const nowOf = (rs: readonly FeedReading[]): bigint => rs.reduce((t, r) => (r.blockTimestamp !== undefined && r.blockTimestamp > t ? r.blockTimestamp : t), 0n);

async function asDeployer(m: DevnetManifest, chain: string, contract: 'DevnetAggregator' | 'SequencerUptimeFeed', call: (c: Contract) => Promise<{ hash: string }>): Promise<void> {
  const c = m.chains[chain];
  if (c === undefined) throw new Error(`no chain ${chain}`);
  const address = contract === 'DevnetAggregator' ? c.contracts.ethUsdFeed : c.contracts.sequencerFeed;
  const wallet = new Wallet(m.accounts.deployer.privateKey, provider(m, chain));
  const tx = await call(new Contract(address, ourArtifact(contract).abi, wallet));
  const receipt = await waitForReceipt(provider(m, chain), tx.hash);
  assert.equal(receipt?.status, 1);
}

describe('oracle reconciliation on the devnet', function () {
  this.timeout(60_000);
  const devnet = useSharedDevnet();
  let targets: ChainFeedsRead[];
  /** A counting proxy in front of each chain: only this test's clients talk through them. */
  let proxies: Map<string, FaultyRpc>;

  beforeEach(async () => {
    const m = devnet().manifest;
    const config = testConfig(m);
    proxies = new Map(await Promise.all(CHAINS.map(async (name) => [name, await startFaultyRpc(m.chains[name]?.rpcUrl ?? '')] as const)));
    targets = CHAINS.map((name) => {
      const cfg = config.chains[name];
      const c = m.chains[name];
      if (cfg === undefined || c === undefined) throw new Error(`no chain ${name}`);
      const client = new ChainClient(name, { ...cfg, rpcUrls: [proxies.get(name)?.url ?? ''] });
      return { client, feeds: { priceFeed: c.contracts.ethUsdFeed, sequencerFeed: c.contracts.sequencerFeed } };
    });
  });

  afterEach(async () => {
    await Promise.all([...proxies.values()].map((p) => p.close()));
  });

  let requests = new Map<string, number>();

  /** Reads all chains, counting the HTTP requests each chain's node received for it. */
  async function readCounted(): Promise<FeedReading[]> {
    const before = new Map(CHAINS.map((c) => [c, proxies.get(c)?.requests ?? 0]));
    const rs = await readAllChains(targets);
    requests = new Map(CHAINS.map((c) => [c, (proxies.get(c)?.requests ?? 0) - (before.get(c) ?? 0)]));
    return rs;
  }

  function assertOneRequestPerChain(): void {
    for (const c of CHAINS) assert.equal(requests.get(c), 1, `${c}: HTTP requests`);
  }

  it('reads every chain in one request and reconciles to 3000', async () => {
    const rs = await readCounted();
    assertOneRequestPerChain();
    for (const r of rs) {
      assert.equal(r.error, undefined, `${r.chain}: ${r.error}`);
      assert.equal(r.decimals, 8);
      assert.equal(r.answer, 3_000n * 10n ** 8n);
      assert.equal(r.minAnswer, 10n ** 6n);
      assert.equal(r.maxAnswer, 10n ** 14n);
      assert.equal(r.sequencer?.down, false);
      assert.ok(r.blockTimestamp !== undefined && r.blockTimestamp > 0n);
    }
    const res = reconcilePrices(rs, policy(3), nowOf(rs));
    assert.ok(res.ok, JSON.stringify(res.excluded));
    assert.equal(res.median, 3_000n * WAD);
    assert.equal(res.low, 3_000n * WAD);
    assert.equal(res.high, 3_000n * WAD);
    assert.equal(res.spreadBps, 0n);
    assert.deepEqual(res.sources.map((s) => s.chain), [...CHAINS]);
  });

  it('one chain moved +30 %: that chain is excluded for deviation; 3-of-3 is blocked', async () => {
    const m = devnet().manifest;
    await asDeployer(m, 'optimism', 'DevnetAggregator', (c) => c.getFunction('setAnswer').send(3_900n * 10n ** 8n));
    const rs = await readCounted();
    assertOneRequestPerChain();
    assert.equal(rs.find((r) => r.chain === 'optimism')?.answer, 3_900n * 10n ** 8n);
    const two = reconcilePrices(rs, policy(2), nowOf(rs));
    assert.ok(two.ok);
    assert.equal(two.median, 3_000n * WAD);
    assert.deepEqual(two.excluded.map((e) => [e.chain, e.reason]), [['optimism', 'deviation']]);
    const three = reconcilePrices(rs, policy(3), nowOf(rs));
    assert.equal(three.ok, false);
    assert.equal(three.ok ? '' : three.reason, 'no-agreeing-quorum');
  });

  it('a sequencer down: that chain is excluded; 3-of-3 is blocked', async () => {
    const m = devnet().manifest;
    await asDeployer(m, 'arbitrum', 'SequencerUptimeFeed', (c) => c.getFunction('setStatus').send(true));
    const rs = await readCounted();
    assertOneRequestPerChain();
    const arb = rs.find((r) => r.chain === 'arbitrum');
    assert.equal(arb?.sequencer?.down, true);
    const two = reconcilePrices(rs, policy(2), nowOf(rs));
    assert.ok(two.ok);
    assert.deepEqual(two.excluded.map((e) => [e.chain, e.reason]), [['arbitrum', 'sequencer-down']]);
    const three = reconcilePrices(rs, policy(3), nowOf(rs));
    assert.equal(three.ok, false);
    assert.equal(three.ok ? '' : three.reason, 'no-quorum');
  });

  it('back up: inside the grace period, then out of it', async () => {
    const m = devnet().manifest;
    await asDeployer(m, 'base', 'SequencerUptimeFeed', (c) => c.getFunction('setStatus').send(true));
    await asDeployer(m, 'base', 'SequencerUptimeFeed', (c) => c.getFunction('setStatus').send(false));
    const rs = await readCounted();
    const base = rs.find((r) => r.chain === 'base');
    assert.equal(base?.sequencer?.down, false);
    const upAt = base?.sequencer?.startedAt ?? 0n;
    const pol = policy(3);
    const graced: ReconcilePolicy = { ...pol, chains: { ...pol.chains, base: { heartbeatSeconds: 86_400, sequencerGraceSeconds: 3_600 } } };
    const inGrace = reconcilePrices(rs, graced, upAt + 10n);
    assert.equal(inGrace.ok, false);
    assert.deepEqual(inGrace.excluded.map((e) => [e.chain, e.reason]), [['base', 'sequencer-grace']]);
    assert.ok(reconcilePrices(rs, graced, upAt + 3_600n).ok);
  });

  it('reads every value at one block: the reading\'s block time is that of the block it was read at', async () => {
    const base = targets[2] as ChainFeedsRead;
    const p = provider(devnet().manifest, 'base');
    const before = (await p.getBlock('latest'))?.timestamp ?? 0;
    const r = await readChainFeeds(base.client, base.feeds);
    const after = (await p.getBlock('latest'))?.timestamp ?? 0;
    assert.equal(r.error, undefined);
    const t = Number(r.blockTimestamp);
    assert.ok(t >= before && t <= after + 1, `read at ${t}, latest block between ${before} and ${after}`);
  });

  it('a misconfigured feed is a read error that says which feed and which read failed', async () => {
    const m = devnet().manifest;
    const base = targets[2] as ChainFeedsRead;
    const c = m.chains.base;
    if (c === undefined) throw new Error('no base');
    // No contract at the address.
    const nothing = await readChainFeeds(base.client, { priceFeed: m.accounts.insuranceFund.address, sequencerFeed: c.contracts.sequencerFeed });
    assert.equal(nothing.error, `no contract at feed address ${m.accounts.insuranceFund.address}`);
    // A contract that is not an aggregator with bounds: the uptime feed has no minAnswer().
    const noBounds = await readChainFeeds(base.client, { priceFeed: c.contracts.sequencerFeed });
    assert.equal(noBounds.error, `minAnswer() of ${c.contracts.sequencerFeed} reverted`);
    // The sequencer feed is optional: without it, the reading says so (null), not "up".
    const noSequencer = await readChainFeeds(base.client, { priceFeed: c.contracts.ethUsdFeed });
    assert.equal(noSequencer.error, undefined);
    assert.equal(noSequencer.sequencer, null);
    assert.equal(noSequencer.answer, 3_000n * 10n ** 8n);
    const res = reconcilePrices([nothing], policy(1), nowOf([noSequencer]));
    assert.deepEqual(res.excluded.map((e) => [e.chain, e.reason]), [['base', 'read-failed']]);
  });

  it('an unreachable chain becomes a read error, not a throw', async () => {
    const m = devnet().manifest;
    const cfg = testConfig(m).chains.base;
    if (cfg === undefined) throw new Error('no base');
    const dead = new ChainClient('base', { ...cfg, rpcUrls: ['http://127.0.0.1:9'], rpcTimeoutMs: 2_000 });
    const rs = await readAllChains([...targets.slice(0, 2), { client: dead, feeds: targets[2]?.feeds ?? { priceFeed: '' } }]);
    assert.ok(rs[2]?.error !== undefined);
    const res = reconcilePrices(rs, policy(3), nowOf(rs));
    assert.equal(res.ok, false);
    assert.deepEqual(res.excluded.map((e) => [e.chain, e.reason]), [['base', 'read-failed']]);
  });
});
