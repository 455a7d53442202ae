// Shutdown finishes within its grace whatever is in flight: a batch that never reaches the
// destination (every send of it fails) does not hold stop(); the signed transaction stays stored
// and the message resumable, and a relayer started again on the same store delivers it once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import { startFaultyRpc } from '../setup/faultyRpc.js';
import { creditCount, lock, makeRelayer, testConfig, tickUntil, useSharedDevnet } from '../setup/devnet.js';

describe('shutdown', function () {
  this.timeout(60_000);
  const devnet = useSharedDevnet();

  it('stops within its grace while a batch cannot be sent, and a restart delivers the message once', async () => {
    const m = devnet().manifest;
    const dir = mkdtempSync(join(tmpdir(), 'isorelay-stop-'));
    const file = join(dir, 'relayer.sqlite');
    const proxy = await startFaultyRpc(m.chains.base?.rpcUrl as string);
    let sends = 0;
    proxy.beforeForward = (calls) => (calls.some((c) => c.method === 'eth_sendRawTransaction') && ++sends > 0 ? Promise.reject(new Error('reset')) : Promise.resolve());
    try {
      const store = SqliteStore.open(file);
      const config = testConfig(m, (raw) => {
        const base = raw.chains.base;
        if (base !== undefined) base.rpcUrls = [proxy.url];
      });
      const { relayer } = makeRelayer(m, { store, config });
      await relayer.start();
      const l = await lock(m, 'arbitrum');
      const deadline = Date.now() + 20_000;
      while (sends < 2) {
        if (Date.now() > deadline) throw new Error('nothing was sent to base');
        await new Promise((r) => setTimeout(r, 50));
      }
      const started = Date.now();
      await relayer.stop(2_000);
      const took = Date.now() - started;
      assert.ok(took < 3_500, `stop took ${took} ms with a grace of 2000 ms`);
      const row = (await store.list({}))[0];
      assert.ok(row !== undefined && row.status !== 'delivered' && row.status !== 'dead', `resumable: ${row?.status}`);
      await store.close();

      const again = SqliteStore.open(file);
      const second = makeRelayer(m, { store: again });
      await tickUntil(second.relayer, async () => (await again.list({ status: 'delivered' })).length === 1);
      assert.equal(await creditCount(m, l.lockId), 1);
      await again.close();
    } finally {
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
