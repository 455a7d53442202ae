// The relayer through a faulty RPC: a lagging node that answers eth_getLogs with nothing makes a
// nonce gap, which is detected and rescanned (nothing lost), even for a path's last message (the
// path's nonce on chain shows it); a dead first URL fails over.
import assert from 'node:assert/strict';
import { id } from 'ethers';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import type { RelayerEvent } from '../../relayer/pipeline/events.js';
import { startFaultyRpc, type FaultyRpc } from '../setup/faultyRpc.js';
import { creditCount, lock, makeRelayer, testConfig, tickUntil, useSharedDevnet } from '../setup/devnet.js';

describe('RPC faults on the way', function () {
  this.timeout(120_000);
  const devnet = useSharedDevnet();
  let proxy: FaultyRpc;
  afterEach(async () => {
    await proxy.close();
  });

  /** A relayer that reads arbitrum only through a fault proxy, and the events it emits. */
  async function behindProxy(m: DevnetManifest) {
    proxy = await startFaultyRpc(m.chains.arbitrum?.rpcUrl as string);
    const config = testConfig(m, (raw) => {
      const arb = raw.chains.arbitrum;
      if (arb !== undefined) arb.rpcUrls = [proxy.url];
    });
    const { relayer, store } = makeRelayer(m, { config });
    const events: RelayerEvent[] = [];
    relayer.events.on((e) => events.push(e));
    return { relayer, store, events };
  }

  it('finds the last lock of a path that a node answered no logs for, with no later lock to reveal the gap', async () => {
    const m = devnet().manifest;
    const { relayer, store, events } = await behindProxy(m);

    const first = await lock(m, 'arbitrum', { positionId: 1n });
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 1);
    proxy.setMode('emptyLogs');
    const last = await lock(m, 'arbitrum', { positionId: 2n });
    // The scan passes the lock's block with no logs: it is caught up, and nothing later comes.
    await tickUntil(relayer, () => events.some((e) => e.type === 'scan.range' && e.stream === 'arbitrum-base' && e.to >= last.blockNumber));
    assert.equal((await store.list({})).length, 1, 'the lagging node hid the last lock');
    proxy.setMode('ok');
    // The path's nonce on chain is ahead of the store: the scan goes back and finds it.
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 2, 30_000);
    const gap = events.find((e): e is Extract<RelayerEvent, { type: 'scan.gap' }> => e.type === 'scan.gap');
    assert.ok(gap !== undefined, 'reported as a gap');
    assert.deepEqual([gap.expected, gap.got], [2n, 2n]);
    for (const l of [first, last]) assert.equal(await creditCount(m, l.lockId), 1);
  });

  it('detects a nonce gap left by a node that returned no logs, rescans, and credits every lock once', async () => {
    const m = devnet().manifest;
    const { relayer, store, events } = await behindProxy(m);

    const first = await lock(m, 'arbitrum', { positionId: 1n });
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 1);

    proxy.setMode('emptyLogs');
    const missed = await lock(m, 'arbitrum', { positionId: 2n });
    for (let i = 0; i < 5; i++) await relayer.tick();
    assert.equal((await store.list({})).length, 1, 'the lagging node hid the second lock');

    proxy.setMode('ok');
    const third = await lock(m, 'arbitrum', { positionId: 3n });
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 3);

    const gaps = events.filter((e) => e.type === 'scan.gap');
    assert.ok(gaps.length >= 1, 'a gap was reported');
    const gap = gaps[0] as Extract<RelayerEvent, { type: 'scan.gap' }>;
    assert.equal(gap.expected, 2n);
    assert.equal(gap.got, 3n);
    for (const l of [first, missed, third]) assert.equal(await creditCount(m, l.lockId), 1);
  });

  it('fails over to the second RPC URL of the destination when the first is down', async () => {
    const m = devnet().manifest;
    proxy = await startFaultyRpc(m.chains.base?.rpcUrl as string);
    proxy.setMode('down');
    const config = testConfig(m, (raw) => {
      const base = raw.chains.base;
      if (base !== undefined) base.rpcUrls = [proxy.url, m.chains.base?.rpcUrl as string];
    });
    const { relayer, store } = makeRelayer(m, { config });
    const l = await lock(m, 'optimism');
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 1);
    assert.equal(await creditCount(m, l.lockId), 1);
    assert.ok(proxy.requests > 0, 'the dead URL was tried first');
  });

  it('does not drop a message for a revert one lying provider makes up: the other provider runs the call, so it is retried and delivered', async () => {
    const m = devnet().manifest;
    const base = m.chains.base as DevnetManifest['chains'][string];
    proxy = await startFaultyRpc(base.rpcUrl);
    // Base's first provider (also the one the sender asks) answers the simulation of every
    // lzReceive with the engine's AlreadyProcessed: a verdict that would make the message dead.
    const lzReceive = id('lzReceive((uint32,bytes32,uint64),address,bytes32,bytes,bytes)').slice(0, 10);
    let lying = true;
    proxy.answerError = (method, params) => {
      const data = (params[0] as { data?: string; input?: string } | undefined)?.data ?? '';
      return lying && (method === 'eth_call' || method === 'eth_estimateGas') && data.startsWith(lzReceive)
        ? { code: 3, message: 'execution reverted', data: id('AlreadyProcessed(bytes32)').slice(0, 10) + '11'.repeat(32) }
        : undefined;
    };
    const config = testConfig(m, (raw) => {
      const b = raw.chains.base;
      if (b === undefined) return;
      b.rpcUrls = [proxy.url];
      b.providers = { node: [proxy.url], forwarder: [base.secondRpcUrl as string] };
    }, { batching: false });
    const { relayer, store } = makeRelayer(m, { config });
    const events: RelayerEvent[] = [];
    relayer.events.on((e) => events.push(e));
    const l = await lock(m, 'arbitrum', { positionId: 5n });
    await tickUntil(relayer, () => events.some((e) => e.type === 'incident' && e.code === 'REVERT_DISPUTED'));
    const row = (await store.list({})).find((r) => r.messageId === l.lockId);
    assert.notEqual(row?.status, 'dead', 'one provider\'s word does not end a message');
    lying = false;
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).some((r) => r.messageId === l.lockId));
    assert.equal(await creditCount(m, l.lockId), 1);
  });
});
