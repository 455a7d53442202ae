// One lying RPC provider must not move money: what the relayer signs (the DVN's verification, the
// VAA check) is read from every independent provider of the source chain and compared by content.
// A provider that rewrites a CREDIT's amount — in eth_getLogs and in receipts — gets the message
// held with an alert and nothing signed; one that lags only delays it.
import assert from 'node:assert/strict';
import { AbiCoder } from 'ethers';
import type { Relayer } from '../../relayer/app/relayer.js';
import type { RawConfig } from '../../relayer/config/schema.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { createMetrics, type Metrics } from '../../relayer/ops/metrics.js';
import type { RelayerEvent } from '../../relayer/pipeline/events.js';
import type { Store } from '../../relayer/store/store.js';
import { startFaultyRpc, type FaultyRpc } from '../setup/faultyRpc.js';
import { creditCount, engine, lock, makeRelayer, nonceOf, provider, testConfig, tickUntil, useSharedDevnet } from '../setup/devnet.js';

const headOf = async (m: DevnetManifest): Promise<number> => provider(m, 'arbitrum').getBlockNumber();
const word = (n: bigint) => AbiCoder.defaultAbiCoder().encode(['uint256'], [n]).slice(2);
const ONE_USDC = 1_000_000n;
const FORGED = 100_001_000_000n;

/** Rewrites the amount word of a 1 USDC CREDIT to 100,001 USDC wherever it appears in log data. */
function forgeAmount(methods: readonly string[]): (method: string, result: unknown) => unknown {
  const forge = (log: { data?: string }) => (typeof log.data === 'string' ? { ...log, data: log.data.replace(word(ONE_USDC), word(FORGED)) } : log);
  return (method, result) => {
    if (!methods.includes(method) || result === null) return result;
    if (method === 'eth_getLogs' && Array.isArray(result)) return result.map(forge);
    if (method === 'eth_getTransactionReceipt') {
      const r = result as { logs: { data?: string }[] };
      return { ...r, logs: r.logs.map(forge) };
    }
    return result;
  };
}

describe('independent providers: one lying or lagging RPC cannot change what is signed', function () {
  this.timeout(120_000);
  const devnet = useSharedDevnet();
  let proxy: FaultyRpc;
  let relayer: Relayer;
  let store: Store;
  let metrics: Metrics;
  let events: RelayerEvent[];

  afterEach(async () => {
    metrics.dispose();
    await proxy.close();
  });

  /** arbitrum read through `proxy` as its provider "node" (scanning too when `scans`) and the devnet's forwarder, quorum 2. */
  async function start(m: DevnetManifest, o: { scans: boolean }): Promise<void> {
    proxy = await startFaultyRpc(m.chains.arbitrum?.rpcUrl as string);
    const config = testConfig(m, (raw: RawConfig) => {
      const arb = raw.chains.arbitrum;
      if (arb === undefined) throw new Error('no arbitrum');
      if (o.scans) arb.rpcUrls = [proxy.url];
      arb.providers = { node: [proxy.url], forwarder: [m.chains.arbitrum?.secondRpcUrl as string] };
      arb.verifyQuorum = 2;
    });
    ({ relayer, store } = makeRelayer(m, { config }));
    metrics = createMetrics(relayer.events);
    events = [];
    relayer.events.on((e) => events.push(e));
  }

  it('holds a CREDIT whose amount a provider rewrote in eth_getLogs and receipts: nothing signed, nothing credited, an alert', async () => {
    const m = devnet().manifest;
    await start(m, { scans: true });
    proxy.rewriteResult = forgeAmount(['eth_getLogs', 'eth_getTransactionReceipt']);
    const relayerAddress = m.accounts.relayer.address;
    const sentBefore = await nonceOf(m, 'base', relayerAddress);

    const l = await lock(m, 'arbitrum', { amount: ONE_USDC, positionId: 71n });
    await tickUntil(relayer, async () => (await store.list({ status: 'held' })).length === 1);
    for (let i = 0; i < 5; i++) await relayer.tick();

    const [held] = await store.list({ status: 'held' });
    assert.equal(held?.messageId, l.lockId);
    assert.equal(held?.holdCode, 'source_disagreement');
    assert.match(held?.lastError ?? '', /providers of arbitrum disagree .* node: the stored message; forwarder: other content .*nothing was signed/);
    assert.equal(await creditCount(m, l.lockId), 0, 'nothing credited');
    assert.equal(await nonceOf(m, 'base', relayerAddress), sentBefore, 'nothing signed or sent on base (no DVN verification of the forged packet)');
    const alert = events.find((e) => e.type === 'verify.disagreement');
    assert.ok(alert !== undefined && alert.type === 'verify.disagreement');
    assert.deepEqual(alert.dissenting, ['forwarder'], 'the honest provider dissents from what the liar made us store');
    assert.match(await metrics.registry.metrics(), /isorelay_source_disagreements_total\{chain="arbitrum",route="arbitrum-base"\} [1-9]/);

    // The operator removes the liar and releases: the providers now agree on the real content, which replaces the forged one.
    proxy.rewriteResult = undefined;
    assert.ok(await store.transition(held?.id, 'held', 'finalized', { lastError: 'released by the operator' }));
    await tickUntil(relayer, async () => (await store.get(held?.id))?.status === 'delivered');
    assert.equal(await creditCount(m, l.lockId), 1);
    const credited = await engine(m).queryFilter(engine(m).filters.PositionCredited?.(l.lockId) ?? 'PositionCredited', 0, 'latest');
    const parsed = engine(m).interface.parseLog(credited[0] as never);
    assert.ok(parsed !== null);
    assert.ok((parsed.args.toArray() as unknown[]).includes(ONE_USDC), 'the real amount was credited, not the forged one');
    assert.ok(!(parsed.args.toArray() as unknown[]).includes(FORGED));
  });

  it('holds a CREDIT when a provider rewrites only its receipts, and holds it again on release while it still lies', async () => {
    const m = devnet().manifest;
    await start(m, { scans: false });
    proxy.rewriteResult = forgeAmount(['eth_getTransactionReceipt']);
    const l = await lock(m, 'arbitrum', { amount: ONE_USDC, positionId: 72n });
    await tickUntil(relayer, async () => (await store.list({ status: 'held' })).length === 1);
    const [held] = await store.list({ status: 'held' });
    assert.equal(held?.holdCode, 'source_disagreement');
    assert.match(held?.lastError ?? '', /node: other content/);
    assert.equal(await creditCount(m, l.lockId), 0);

    // A release is not a way around the providers: read again, still disputed, held again.
    assert.ok(await store.transition(held?.id, 'held', 'finalized', { lastError: 'released by the operator' }));
    await tickUntil(relayer, async () => (await store.get(held?.id))?.status === 'held');
    assert.equal(await creditCount(m, l.lockId), 0);

    proxy.rewriteResult = undefined;
    assert.ok(await store.transition(held?.id, 'held', 'finalized', { lastError: 'released by the operator' }));
    await tickUntil(relayer, async () => (await store.get(held?.id))?.status === 'delivered');
    assert.equal(await creditCount(m, l.lockId), 1);
  });

  it('waits for a provider that lags, then delivers once it has caught up', async () => {
    const m = devnet().manifest;
    await start(m, { scans: false });
    proxy.setMode('staleHead', { staleBlock: BigInt(await headOf(m)) });
    const l = await lock(m, 'arbitrum', { amount: ONE_USDC, positionId: 73n });
    await tickUntil(relayer, async () => (await store.list({})).some((r) => r.status === 'waiting' && r.resumeStatus === 'finalized'));
    for (let i = 0; i < 5; i++) await relayer.tick();
    const [waiting] = await store.list({});
    assert.equal(waiting?.status, 'waiting');
    assert.equal(waiting?.reasonCode, 'source_quorum');
    assert.equal(waiting?.attempts, 0, 'waiting for a provider is not a failed attempt');
    assert.match(waiting?.lastError ?? '', /1 of the 2 providers needed served .* \(node has no receipt/);
    assert.equal(await creditCount(m, l.lockId), 0);
    assert.equal(events.filter((e) => e.type === 'verify.disagreement').length, 0, 'behind is unknown, not a vote against');

    proxy.setMode('ok');
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 1);
    assert.equal(await creditCount(m, l.lockId), 1);
  });

  it('lets each DVN sign only what its own provider served: with a quorum of one, the second DVN waits for its lagging provider', async () => {
    const m = devnet().manifest;
    proxy = await startFaultyRpc(m.chains.arbitrum?.secondRpcUrl as string);
    const config = testConfig(m, (raw: RawConfig) => {
      const arb = raw.chains.arbitrum;
      if (arb === undefined) throw new Error('no arbitrum');
      arb.providers = { node: [m.chains.arbitrum?.rpcUrl as string], forwarder: [proxy.url] };
      arb.verifyQuorum = 1;
    });
    ({ relayer, store } = makeRelayer(m, { config }));
    metrics = createMetrics(relayer.events);
    proxy.setMode('staleHead', { staleBlock: BigInt(await headOf(m)) });
    const l = await lock(m, 'arbitrum', { amount: ONE_USDC, positionId: 75n });
    await tickUntil(relayer, async () => /signs only what its providers \(forwarder\) served/.test((await store.list({}))[0]?.lastError ?? ''));
    for (let i = 0; i < 5; i++) await relayer.tick();
    assert.equal(await creditCount(m, l.lockId), 0, 'one DVN alone cannot get it executed');
    proxy.setMode('ok');
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 1);
    assert.equal(await creditCount(m, l.lockId), 1);
  });

  it('orphans a message whose transaction a scanning provider made up, alerts, and recovers the real one by the next nonce\'s gap', async () => {
    const m = devnet().manifest;
    proxy = await startFaultyRpc(m.chains.arbitrum?.rpcUrl as string);
    const config = testConfig(m, (raw: RawConfig) => {
      const arb = raw.chains.arbitrum;
      if (arb === undefined) throw new Error('no arbitrum');
      arb.rpcUrls = [proxy.url]; // it scans; the two verifying providers are honest
    });
    ({ relayer, store } = makeRelayer(m, { config }));
    metrics = createMetrics(relayer.events);
    events = [];
    relayer.events.on((e) => events.push(e));
    const first = await lock(m, 'arbitrum', { positionId: 76n });
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 1);

    // The liar renames the next lock's transaction, and answers receipts for the made-up hash.
    const FAKE = '0x' + 'fe'.repeat(32);
    let real = '';
    proxy.rewriteParams = (method, params) => (method === 'eth_getTransactionReceipt' && params[0] === FAKE ? [real] : params);
    proxy.rewriteResult = (method, result) => {
      const rename = (x: { transactionHash?: string }) => (real !== '' && x.transactionHash === real ? { ...x, transactionHash: FAKE } : x);
      if (method === 'eth_getLogs' && Array.isArray(result)) return (result as { transactionHash?: string }[]).map(rename);
      if (method === 'eth_getTransactionReceipt' && result !== null) {
        const r = rename(result as { transactionHash?: string; logs: { transactionHash?: string }[] }) as { logs: { transactionHash?: string }[] };
        return { ...r, logs: r.logs.map(rename) };
      }
      return result;
    };
    const second = await lock(m, 'arbitrum', { positionId: 77n });
    real = second.txHash;
    await tickUntil(relayer, async () => (await store.list({})).some((r) => r.messageId === second.lockId && r.status === 'orphaned'));
    const orphan = (await store.list({})).find((r) => r.messageId === second.lockId);
    assert.equal(orphan?.srcTx, FAKE);
    assert.match(orphan?.lastError ?? '', /2 providers of arbitrum \(node, forwarder\) call block \d+ final and have no transaction 0xfefe/);
    assert.ok(events.some((e) => e.type === 'verify.disagreement'), 'an alert');
    assert.equal(await creditCount(m, second.lockId), 0);

    // The liar is gone; the next lock's nonce shows the gap, the scan rewinds, the real message comes back.
    proxy.rewriteParams = undefined;
    proxy.rewriteResult = undefined;
    const third = await lock(m, 'arbitrum', { positionId: 78n });
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 3);
    for (const l of [first, second, third]) assert.equal(await creditCount(m, l.lockId), 1);
    assert.equal((await store.list({})).find((r) => r.messageId === second.lockId)?.srcTx, second.txHash);
  });

  it('delivers over Wormhole only what both providers of optimism serve alike', async () => {
    const m = devnet().manifest;
    proxy = await startFaultyRpc(m.chains.optimism?.rpcUrl as string);
    const config = testConfig(m, (raw: RawConfig) => {
      const op = raw.chains.optimism;
      if (op === undefined) throw new Error('no optimism');
      op.providers = { node: [proxy.url], forwarder: [m.chains.optimism?.secondRpcUrl as string] };
    });
    ({ relayer, store } = makeRelayer(m, { config }));
    metrics = createMetrics(relayer.events);
    proxy.rewriteResult = forgeAmount(['eth_getTransactionReceipt']);
    const l = await lock(m, 'optimism', { amount: ONE_USDC, positionId: 74n });
    await tickUntil(relayer, async () => (await store.list({ status: 'held' })).length === 1);
    assert.equal((await store.list({ status: 'held' }))[0]?.holdCode, 'source_disagreement');
    assert.equal(await creditCount(m, l.lockId), 0);
  });
});
