// Readiness tells the truth: when delivery stops moving (every RPC endpoint of the destination
// failing, a message older than its route's expected time) health() is not ready and says why;
// when the cause goes, it is ready again by itself.
import assert from 'node:assert/strict';
import { startFaultyRpc, type FaultyRpc } from '../setup/faultyRpc.js';
import { creditCount, lock, makeRelayer, testConfig, tickUntil, useSharedDevnet } from '../setup/devnet.js';

describe('readiness', function () {
  this.timeout(60_000);
  const devnet = useSharedDevnet();
  let proxy: FaultyRpc;
  afterEach(async () => {
    await proxy.close();
  });

  it('fails while the destination\'s RPC is down and delivery stalls, with the reasons, and recovers by itself', async () => {
    const m = devnet().manifest;
    proxy = await startFaultyRpc(m.chains.base?.rpcUrl as string);
    const config = testConfig(m, (raw) => {
      const base = raw.chains.base;
      if (base !== undefined) {
        base.rpcUrls = [proxy.url];
        base.pollMs = 20;
      }
      for (const r of raw.routes) r.expectedDeliveryMs = 1_500;
    });
    const { relayer, store } = makeRelayer(m, { config });
    await relayer.start();
    try {
      await tickUntil(relayer, async () => (await relayer.health()).ready, 10_000);
      proxy.setMode('down');
      const l = await lock(m, 'arbitrum');
      const deadline = Date.now() + 20_000;
      let report = await relayer.health();
      while (report.ready || report.checks['route:arbitrum-base']?.ok !== false || report.checks['rpc:base']?.ok !== false) {
        if (Date.now() > deadline) throw new Error(`readiness never failed: ${JSON.stringify(report)}`);
        await new Promise((r) => setTimeout(r, 100));
        report = await relayer.health();
      }
      assert.match(report.checks['route:arbitrum-base']?.detail ?? '', /delivery is stalled: the oldest message on its way was observed \d+ s ago \(expected within 2 s\)/);
      assert.match(report.checks['rpc:base']?.detail ?? '', /no RPC endpoint of base answers/);

      proxy.setMode('ok');
      const back = Date.now() + 20_000;
      while (!(await relayer.health()).ready) {
        if (Date.now() > back) throw new Error(`readiness never came back: ${JSON.stringify(relayer.health())}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal((await store.list({ status: 'delivered' })).length, 1);
      assert.equal(await creditCount(m, l.lockId), 1);
    } finally {
      await relayer.stop(2_000);
    }
  });
});
