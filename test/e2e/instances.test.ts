// Several instances on one PostgreSQL database (issue 11): the real daemon in three processes, each
// with its own gas key, sharing the work through leases. One of them is SIGKILLed (and restarted)
// or SIGSTOPped (and resumed, often after its leases ran out) every few seconds while 300 locks
// go through both transports: every lock is credited exactly once on chain, no relay step is sent
// again after it took effect, and what a fenced instance refused to sign is counted. Then the
// database itself is stopped under load and started again: the instances stop claiming and
// sending, /readyz says why, nothing is lost or sent twice, the work resumes by itself, and the
// connection string's password is never logged. INSTANCES_SEED replays a chaos run.
import assert from 'node:assert/strict';
import type { LockResult } from '../../relayer/app/trader.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { batchFailures } from '../setup/batchFailures.js';
import { approveVault, creditCount, lock, provider } from '../setup/devnet.js';
import { attesterKeyEnv } from '../../relayer/devnet/relayerConfig.js';
import { startFleet, readyz, type Fleet, type InstanceProcess } from '../setup/instances.js';
import { prng } from '../setup/prng.js';
import { startPostgres, type TestPostgres } from '../setup/postgres.js';

const SEED = Number(process.env.INSTANCES_SEED ?? 11);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Transactions of the instances' gas keys on base that reverted (a whole transaction wasted). */
async function revertedTxs(m: DevnetManifest, fromBlock: number): Promise<number> {
  const base = provider(m, 'base');
  const keys = new Set([m.accounts.relayer, ...(m.accounts.moreRelayers ?? [])].map((a) => a.address.toLowerCase()));
  const head = await base.getBlockNumber();
  let reverted = 0;
  for (let n = fromBlock; n <= head; n++) {
    const block = await base.getBlock(n, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      if (!keys.has(tx.from.toLowerCase())) continue;
      const r = await base.getTransactionReceipt(tx.hash);
      if (r?.status === 0) reverted++;
    }
  }
  return reverted;
}

async function waitCredited(m: DevnetManifest, locks: readonly LockResult[], boundMs: number): Promise<number[]> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const counts = await Promise.all(locks.map((l) => creditCount(m, l.lockId)));
    if (counts.every((c) => c >= 1) || Date.now() > deadline) return counts;
    await sleep(500);
  }
}

const fencedRefusals = (f: Fleet) => f.instances.reduce((n, i) => n + i.lines.filter((l) => l.includes('LEASE_LOST')).length, 0);

describe('several instances on one PostgreSQL database', function () {
  this.timeout(420_000);
  let pg: TestPostgres & { dispose: () => Promise<void> };
  let fleet: Fleet | undefined;

  before(async function () {
    pg = await startPostgres();
  });
  after(async function () {
    await pg.dispose();
  });
  afterEach(async function () {
    await fleet?.dispose();
    fleet = undefined;
  });

  it('three instances, one SIGKILLed or SIGSTOPped every few seconds: 300 locks credited exactly once, nothing sent again', async function () {
    const LOCKS = 300;
    const url = await pg.freshDatabase('chaos');
    fleet = await startFleet({ count: 3, url, leaseMs: 3_000 });
    const f = fleet;
    const m = f.manifest;
    for (const chain of ['arbitrum', 'optimism']) for (const t of [0, 1]) await approveVault(m, chain, t);
    const fromBlock = await provider(m, 'base').getBlockNumber();
    for (const i of [1, 2, 3]) await f.start(i);
    const random = prng(SEED);
    const actions: string[] = [];
    let chaos = true;
    // The supervisor from hell: every 2–4 s one running instance (never the last one) is killed
    // (restarted 1 s later) or paused for 1–8 s (its leases last 3 s: mostly taken over meanwhile).
    const pending: Promise<void>[] = [];
    const disturbing = (async () => {
      while (chaos) {
        await sleep(2_000 + random() * 2_000);
        if (!chaos) break;
        // Only an instance that is up (a restarted one has said it started) is disturbed again.
        const running = f.instances.filter((x) => x.state === 'running' && x.opsUrl !== undefined);
        if (running.length < 2) continue;
        const target = running[Math.floor(random() * running.length)] as (typeof running)[number];
        if (random() < 0.5) {
          f.kill(target.index);
          actions.push(`kill ${target.index}`);
          pending.push(sleep(1_000).then(() => f.start(target.index)));
        } else {
          const pauseMs = 1_000 + Math.floor(random() * 7_000);
          f.pause(target.index);
          actions.push(`pause ${target.index} ${pauseMs} ms`);
          pending.push(sleep(pauseMs).then(() => f.resume(target.index)));
        }
      }
      await Promise.all(pending);
    })();
    const locks: LockResult[] = [];
    const started = Date.now();
    try {
      for (let i = 0; i < LOCKS; i++) locks.push(await lock(m, i % 2 === 0 ? 'arbitrum' : 'optimism', { amount: 1_000_000n + BigInt(i), positionId: 1_000n + BigInt(i), trader: i % 4 < 2 ? 0 : 1 }));
      const lockedMs = Date.now() - started;
      // Keep disturbing for a while after the last lock (a minute of chaos at least), then let them drain.
      await sleep(Math.max(10_000, 60_000 - (Date.now() - started)));
      chaos = false;
      await disturbing;
      for (const inst of f.instances) if (inst.state === 'stopped') f.resume(inst.index);
      for (const inst of f.instances) if (inst.state === 'killed' || inst.state === 'exited') await f.start(inst.index);
      const chaosEnded = Date.now();
      const counts = await waitCredited(m, locks, 90_000);
      const drainedMs = Date.now() - chaosEnded;
      assert.deepEqual(counts.map((c, i) => [i, c]).filter(([, c]) => c !== 1), [], 'every lock credited exactly once');
      const { reasons, duplicated } = await batchFailures(m, fromBlock);
      const reverted = await revertedTxs(m, fromBlock);
      const refused = fencedRefusals(f);
      process.stdout.write(`      instances seed ${SEED}: ${LOCKS} locks in ${(lockedMs / 1000).toFixed(1)} s, drained ${(drainedMs / 1000).toFixed(1)} s after the chaos; ${actions.length} disturbances (${actions.filter((a) => a.startsWith('kill')).length} kills, ${actions.filter((a) => a.startsWith('pause')).length} pauses); sent by a fenced instance: ${duplicated} duplicated steps, ${reverted} reverted transactions; refused by the fence (LEASE_LOST): ${refused}; calls failed in batches: ${JSON.stringify(reasons)}\n`);
      assert.equal(duplicated, 0, `steps sent again after they took effect: ${JSON.stringify(reasons)}`);
      assert.equal(reverted, 0, 'no transaction of an instance reverted');
      assert.ok(actions.length >= 12, `the chaos really happened: ${actions.join(', ')}`);
    } finally {
      chaos = false;
      await disturbing;
      await f.stopAll();
    }
  });

  it('the keeper and each route\'s scan run in one instance at a time, and move to another when it dies', async function () {
    const url = await pg.freshDatabase('leaders');
    fleet = await startFleet({
      count: 2, url, leaseMs: 2_000,
      patch: (raw) => {
        raw.keeper = { ...(raw.keeper as object), enabled: true };
        raw.keys = { ...(raw.keys as object), attesters: [0, 1].map((i) => ({ env: attesterKeyEnv(i) })) };
      },
      env: (m) => Object.fromEntries(m.accounts.attesters.slice(0, 2).map((a, i) => [attesterKeyEnv(i), a.privateKey])),
    });
    const f = fleet;
    for (const i of [1, 2]) await f.start(i);
    type Lease = { name: string; owner: string; ttlMs: number };
    const leases = async (inst: InstanceProcess): Promise<Lease[]> => ((await (await fetch(`${inst.opsUrl ?? ''}/status`)).json()) as { leases: Lease[] }).leases;
    const holders = async (inst: InstanceProcess) => {
      const now = await leases(inst);
      const live = now.filter((l) => l.ttlMs > 0);
      return { keeper: live.filter((l) => l.name === 'keeper').map((l) => l.owner), scans: live.filter((l) => l.name.startsWith('scan:')), gas: live.filter((l) => l.name.startsWith('gas:')) };
    };
    await sleep(3_000);
    const [one, two] = f.instances as [InstanceProcess, InstanceProcess];
    const before = await holders(one);
    assert.equal(before.keeper.length, 1, 'one keeper');
    assert.equal(before.gas.length, 2, 'each instance holds its own gas key');
    assert.equal(new Set(before.scans.map((l) => l.name)).size, before.scans.length, 'one scanner per route');
    assert.equal(before.scans.length, 4, 'every route is scanned');
    // Kill the keeper's instance: the other takes the keeper and every scan over once the leases run out.
    const keeperOwner = before.keeper[0] ?? '';
    const victim = keeperOwner.startsWith('i1#') ? one : two;
    const survivor = victim === one ? two : one;
    f.kill(victim.index);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const after = await holders(survivor);
      const owners = new Set([...after.keeper, ...after.scans.map((l) => l.owner)]);
      if (after.keeper.length === 1 && after.scans.length === 4 && owners.size === 1 && !owners.has(keeperOwner) && [...owners][0]?.startsWith(`i${survivor.index}#`) === true) break;
      if (Date.now() > deadline) throw new Error(`not taken over: ${JSON.stringify(after)}`);
      await sleep(250);
    }
    await f.stopAll();
  });

  it('the database stopped under load and started again: no claims or sends while it is down, /readyz says why, everything credited once after', async function () {
    const url = await pg.freshDatabase('outage');
    fleet = await startFleet({ count: 2, url, leaseMs: 3_000 });
    const f = fleet;
    const m = f.manifest;
    for (const chain of ['arbitrum', 'optimism']) await approveVault(m, chain, 0);
    for (const i of [1, 2]) await f.start(i);
    const locks: LockResult[] = [];
    for (let i = 0; i < 20; i++) locks.push(await lock(m, i % 2 === 0 ? 'arbitrum' : 'optimism', { amount: 2_000_000n + BigInt(i), positionId: 5_000n + BigInt(i) }));
    // The database goes away while those are in flight; more locks arrive meanwhile.
    await pg.stop();
    const downAt = Date.now();
    for (let i = 20; i < 40; i++) locks.push(await lock(m, i % 2 === 0 ? 'arbitrum' : 'optimism', { amount: 2_000_000n + BigInt(i), positionId: 5_000n + BigInt(i) }));
    let notReady: { ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> } | null = null;
    while (Date.now() - downAt < 10_000) {
      const r = await readyz(f.instances[0] as (typeof f.instances)[number]);
      if (r !== null && !r.ready && r.checks.store !== undefined) notReady = r;
      await sleep(250);
    }
    const creditedWhileDown = (await Promise.all(locks.slice(20).map((l) => creditCount(m, l.lockId)))).filter((c) => c > 0).length;
    await pg.start();
    try {
      const counts = await waitCredited(m, locks, 60_000);
      assert.deepEqual(counts.map((c, i) => [i, c]).filter(([, c]) => c !== 1), [], 'every lock credited exactly once');
      const alive = f.instances.map((i) => `${i.index}: ${i.state}, exit ${String(i.child?.exitCode)} ${String(i.child?.signalCode)}; last: ${i.lines.slice(-3).join(' | ').slice(0, 600)}`);
      assert.ok(f.instances.every((i) => i.child?.exitCode === null), `no instance died of the outage:\n${alive.join('\n')}`);
      assert.ok(notReady !== null, '/readyz failed with a store check while the database was down');
      assert.match(notReady.checks.store?.detail ?? '', /store is unavailable/);
      assert.equal(creditedWhileDown, 0, 'nothing locked while the database was down was credited: nothing is claimed or sent without it');
      const back = Date.now() + 20_000;
      for (;;) {
        const r = await readyz(f.instances[0] as (typeof f.instances)[number]);
        if (r?.ready === true) break;
        if (Date.now() > back) throw new Error(`not ready after the database came back: ${JSON.stringify(r)}`);
        await sleep(250);
      }
      const logs = f.instances.flatMap((i) => i.lines).join('\n');
      assert.ok(logs.includes('STORE_UNAVAILABLE') || logs.includes('unavailable'), 'the outage was logged');
      assert.ok(!logs.includes('isorelay-test-password'), 'the database password never reaches a log');
      assert.ok(!logs.includes(url), 'nor the connection string');
    } finally {
      await f.stopAll();
    }
  });
});
