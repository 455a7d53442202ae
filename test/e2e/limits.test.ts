// Credit route limits on the devnet (RELIABILITY 9): with a per-message cap and a per-window cap
// on arbitrum's USDC, the relayer delivers what fits, holds the CREDIT above the cap for the
// operator, keeps the one that does not fit in the window waiting (not dead, not sent), and
// delivers the held one once released. Nothing over a limit reaches the engine.
import assert from 'node:assert/strict';
import { createMetrics } from '../../relayer/ops/metrics.js';
import { Contract } from 'ethers';
import { layerZeroAbi } from '../../relayer/transports/layerzero/artifacts.js';
import { decodePacket } from '../../relayer/transports/layerzero/packet.js';
import { creditCount, engine, lock, makeRelayer, testConfig, tickUntil, trader, useSharedDevnet } from '../setup/devnet.js';

describe('credit route limits on the devnet', function () {
  this.timeout(120_000);
  const devnet = useSharedDevnet();

  it('delivers what fits, holds a CREDIT above the cap, keeps one beyond the window waiting; a release delivers the held one', async () => {
    const m = devnet().manifest;
    const usdc = m.chains.arbitrum?.contracts.usdc as string;
    const config = testConfig(m, (raw) => {
      const route = raw.routes.find((r) => r.name === 'arbitrum-base');
      if (route === undefined) throw new Error('no arbitrum-base route');
      route.limits = [{ token: usdc, maxPerMessage: '5000000', maxPerWindow: '2500000', windowSeconds: 3_600 }];
    });
    const { relayer, store } = makeRelayer(m, { config });
    const metrics = createMetrics(relayer.events);
    try {
      const fits = [await lock(m, 'arbitrum', { amount: 1_000_000n, positionId: 31n }), await lock(m, 'arbitrum', { amount: 1_000_000n, positionId: 32n })];
      await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 2);
      const aboveCap = await lock(m, 'arbitrum', { amount: 6_000_000n, positionId: 33n });
      const beyondWindow = await lock(m, 'arbitrum', { amount: 1_000_000n, positionId: 34n });
      await tickUntil(relayer, async () => (await store.list({ status: 'held' })).length === 1 && (await store.list({ status: 'waiting' })).length === 1);
      // A few more ticks: neither moves on by itself.
      for (let i = 0; i < 5; i++) await relayer.tick();

      for (const l of fits) assert.equal(await creditCount(m, l.lockId), 1);
      const [held] = await store.list({ status: 'held' });
      assert.equal(held?.messageId, aboveCap.lockId);
      assert.match(held?.lastError ?? '', /CREDIT of 6000000 .* above route arbitrum-base's per-message cap of 5000000/);
      const [waiting] = await store.list({ status: 'waiting' });
      assert.equal(waiting?.reasonCode, 'credit_window');
      assert.equal(waiting?.messageId, beyondWindow.lockId);
      assert.equal(waiting?.resumeStatus, 'verified', 'it is verified on chain (so later nonces can go) and waits to execute');
      assert.equal(waiting?.attempts, 0, 'waiting is not a failed attempt: it never goes dead');
      assert.match(waiting?.lastError ?? '', /credited 2000000 of its 2500000 .* this CREDIT of 1000000 waits for room/);
      assert.equal(await creditCount(m, beyondWindow.lockId), 0);
      assert.equal(await creditCount(m, aboveCap.lockId), 0);
      const text = await metrics.registry.metrics();
      assert.match(text, /isorelay_credits_limited_total\{route="arbitrum-base",held="true"\} 1\n/);
      assert.match(text, /isorelay_credits_limited_total\{route="arbitrum-base",held="false"\} [1-9]/);

      // The operator releases the held CREDIT (as `isorelay held release` does): delivered once.
      assert.ok(await store.transition(held?.id, 'held', 'finalized', { guardReleased: true, lastError: 'released by the operator' }));
      await tickUntil(relayer, async () => (await store.get(held?.id))?.status === 'delivered');
      assert.equal(await creditCount(m, aboveCap.lockId), 1);
      // The released CREDIT counts: the window is fuller still, and the waiting one keeps waiting.
      await tickUntil(relayer, async () => /credited 8000000 of its 2500000/.test((await store.get(waiting?.id))?.lastError ?? ''));
      assert.equal((await store.get(waiting?.id))?.status, 'waiting');
      assert.equal(await creditCount(m, beyondWindow.lockId), 0);
    } finally {
      metrics.dispose();
    }
  });

  it('never lets a held CREDIT block its path: ten later CREDITs from another trader are delivered while it is held', async () => {
    const m = devnet().manifest;
    const usdc = m.chains.arbitrum?.contracts.usdc as string;
    const config = testConfig(m, (raw) => {
      const route = raw.routes.find((r) => r.name === 'arbitrum-base');
      if (route === undefined) throw new Error('no arbitrum-base route');
      route.limits = [{ token: usdc, maxPerMessage: '5000000' }];
    });
    const { relayer, store } = makeRelayer(m, { config });
    const oversize = await lock(m, 'arbitrum', { amount: 6_000_000n, positionId: 41n, trader: 0 });
    const later = [];
    for (let i = 0; i < 10; i++) later.push(await lock(m, 'arbitrum', { amount: 1_000_000n, positionId: 50n + BigInt(i), trader: 1 }));
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 10 && (await store.list({ status: 'held' })).length === 1, 60_000);
    for (const l of later) assert.equal(await creditCount(m, l.lockId), 1, 'a later nonce of the path executed past the held one');
    const [held] = await store.list({ status: 'held' });
    assert.equal(held?.messageId, oversize.lockId);
    assert.equal(held?.holdCode, 'credit_cap');
    assert.equal(await creditCount(m, oversize.lockId), 0, 'the held CREDIT is verified on chain but not executed');
    // Verified and committed, it is still not anyone's to execute: the engine takes CREDITs from its executors only.
    const { encoded, options } = JSON.parse(held?.payload ?? '{}') as { encoded: string; options: string };
    const p = decodePacket(encoded, options);
    const endpoint = new Contract(m.chains.base?.layerzero.endpoint as string, layerZeroAbi('EndpointV2'), trader(m, 'base', 1));
    await assert.rejects(
      endpoint.getFunction('lzReceive').staticCall({ srcEid: p.srcEid, sender: p.sender, nonce: p.nonce }, p.receiver, p.guid, p.message, '0x'),
      (e: unknown) => (e as { data?: string }).data?.startsWith(engine(m).interface.getError('NotExecutor')?.selector ?? '?') === true,
    );
    assert.equal(await creditCount(m, oversize.lockId), 0);

    // Released, it executes after the later ones (LayerZero keeps its verified payload): once.
    assert.ok(await store.transition(held?.id, 'held', 'finalized', { guardReleased: true, lastError: 'released by the operator' }));
    await tickUntil(relayer, async () => (await store.get(held?.id))?.status === 'delivered');
    assert.equal(await creditCount(m, oversize.lockId), 1);
  });
});
