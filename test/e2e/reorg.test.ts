// Reorgs on the source chain: a lock reorged out before finality is never credited (orphaned);
// the same transaction mined again after the reorg is credited once; a reorg deeper than the
// finality policy halts the route as an incident and reverses nothing.
import assert from 'node:assert/strict';
import { approveVault, creditCount, engine, lock, makeRelayer, nonceOf, provider, testConfig, tickUntil, useSharedDevnet } from '../setup/devnet.js';

describe('reorgs on the source chain', function () {
  this.timeout(120_000);
  const devnet = useSharedDevnet();

  // 200 confirmations: 40 s of the devnet's 0.2 s blocks, far longer than a lock waits for its
  // reorg here, and few enough blocks for anvil_mine to pass finality quickly.
  const CONFIRMATIONS = 200;
  const pastFinality = `0x${(CONFIRMATIONS + 56).toString(16)}`;
  const slowFinality = (chain = 'arbitrum') => testConfig(devnet().manifest, (raw) => {
    const c = raw.chains[chain];
    if (c !== undefined) c.finality = { confirmations: CONFIRMATIONS };
  });

  /** Locks on a source after a snapshot; revert to `revertTo` to reorg the lock out. */
  async function lockAfterSnapshot(chain = 'arbitrum'): Promise<{ lockId: string; raw: string; revertTo: string }> {
    const m = devnet().manifest;
    const arb = provider(m, chain);
    await approveVault(m, chain); // outside the reorg, so that the lock alone is removed
    const beforeLock = (await arb.send('evm_snapshot', [])) as string;
    const l = await lock(m, chain);
    const raw = (await arb.send('eth_getRawTransactionByHash', [l.txHash])) as string;
    return { lockId: l.lockId, raw, revertTo: beforeLock };
  }

  for (const chain of ['arbitrum', 'optimism']) {
  it(`never credits a lock reorged out before finality, and marks it orphaned (${chain === 'arbitrum' ? 'LayerZero' : 'Wormhole'})`, async () => {
    const m = devnet().manifest;
    const arb = provider(m, chain);
    const nonce = await nonceOf(m, 'base', m.accounts.relayer.address);
    const { relayer, store } = makeRelayer(m, { config: slowFinality(chain) });
    const reorgs: { depth: bigint; orphaned: number }[] = [];
    relayer.events.on((e) => {
      if (e.type === 'scan.reorg') reorgs.push({ depth: e.depth, orphaned: e.orphaned });
    });
    const l = await lockAfterSnapshot(chain);
    await tickUntil(relayer, async () => (await store.list({ status: 'observed' })).length === 1);

    await arb.send('evm_revert', [l.revertTo]);
    await arb.send('anvil_mine', ['0x20']);
    await tickUntil(relayer, async () => (await store.list({ status: 'orphaned' })).length === 1);
    // The reorg is reported with how deep it went (it read 0 before) and what it orphaned.
    assert.ok(reorgs.some((r) => r.depth > 0n && r.orphaned === 1), `reorg events: ${JSON.stringify(reorgs, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
    // Far past the old block's finality: still orphaned, never delivered.
    await arb.send('anvil_mine', [pastFinality]);
    for (let i = 0; i < 5; i++) await relayer.tick();

    const rows = await store.list({});
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.status, 'orphaned');
    assert.match(rows[0]?.lastError ?? '', /reorged out/);
    assert.equal(await creditCount(m, l.lockId), 0);
    assert.equal(await nonceOf(m, 'base', m.accounts.relayer.address), nonce, 'nothing was sent to the destination');
  });
  }

  it('credits once a lock that the reorg removed and a later block included again', async () => {
    const m = devnet().manifest;
    const arb = provider(m, 'arbitrum');
    const nonce = await nonceOf(m, 'base', m.accounts.relayer.address);
    const { relayer, store } = makeRelayer(m, { config: slowFinality() });
    const l = await lockAfterSnapshot();
    await tickUntil(relayer, async () => (await store.list({ status: 'observed' })).length === 1);
    await arb.send('evm_revert', [l.revertTo]);
    await arb.send('anvil_mine', ['0x20']);
    await tickUntil(relayer, async () => (await store.list({ status: 'orphaned' })).length === 1);

    await arb.send('eth_sendRawTransaction', [l.raw]);
    await arb.send('anvil_mine', [pastFinality]);
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 1);
    assert.equal((await store.list({})).length, 1, 'the same message, revived, not a second one');
    assert.equal(await creditCount(m, l.lockId), 1);
    assert.equal(await nonceOf(m, 'base', m.accounts.relayer.address), nonce + 1, 'one relay batch');
  });

  it('delivers the new payload when, after a reorg, another lock takes the same nonce (same guid)', async () => {
    const m = devnet().manifest;
    const arb = provider(m, 'arbitrum');
    const { relayer, store } = makeRelayer(m, { config: slowFinality() });
    const first = await lockAfterSnapshot();
    await tickUntil(relayer, async () => (await store.list({ status: 'observed' })).length === 1);
    const [seen] = await store.list({});
    await arb.send('evm_revert', [first.revertTo]);
    await arb.send('anvil_mine', ['0x20']);
    await tickUntil(relayer, async () => (await store.list({ status: 'orphaned' })).length === 1);

    // Another lock (another amount and position) gets vault nonce 1 and LayerZero nonce 1 again.
    const second = await lock(m, 'arbitrum', { amount: 4_242n, positionId: 77n });
    await arb.send('anvil_mine', [pastFinality]);
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 1);

    const rows = await store.list({});
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.id, seen?.id, 'the same guid, revived');
    assert.equal(rows[0]?.messageId, second.lockId);
    assert.notEqual(rows[0]?.payload, seen?.payload);
    const trader = m.accounts.traders[0]?.address;
    const usdc = m.chains.arbitrum?.contracts.usdc;
    assert.equal(await engine(m).getFunction('collateralOf')(trader, 77n, 42161n, usdc), 4_242n);
    assert.equal(await engine(m).getFunction('collateralOf')(trader, 1n, 42161n, usdc), 0n, 'the reorged-out lock was never credited');
  });

  it('halts the route on a reorg deeper than finality, keeping what was delivered', async () => {
    const m = devnet().manifest;
    const arb = provider(m, 'arbitrum');
    const { relayer, store } = makeRelayer(m);
    const incidents: string[] = [];
    relayer.events.on((e) => {
      if (e.type === 'incident') incidents.push(e.code);
    });
    const l = await lockAfterSnapshot();
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 1);

    await arb.send('evm_revert', [l.revertTo]);
    await arb.send('anvil_mine', ['0x30']);
    await tickUntil(relayer, () => relayer.haltedRoutes.has('arbitrum-base'));

    assert.deepEqual(incidents, ['REORG_BEYOND_FINALITY']);
    assert.equal((await relayer.health()).ready, false);
    assert.match((await relayer.health()).checks['route:arbitrum-base']?.detail ?? '', /halted/);
    assert.equal((await store.list({}))[0]?.status, 'delivered');
    assert.equal(await creditCount(m, l.lockId), 1);
    // The other route keeps working.
    const o = await lock(m, 'optimism');
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 2);
    assert.equal(await creditCount(m, o.lockId), 1);
  });
});
