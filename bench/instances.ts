// `npm run bench` (part): credits per second with one, two and three relayer instances sharing a
// PostgreSQL store, against one instance on SQLite, in the same run. Each instance is the real
// daemon in its own process with its own gas key. The instances start, are paused (SIGSTOP), N
// locks are made over both transports, the instances are resumed, and the clock runs until every
// lock is credited on chain. Each configuration has a devnet of its own (no leftover work).
import { creditCount, lock, approveVault } from '../test/setup/devnet.js';
import { startFleet } from '../test/setup/instances.js';
import { startPostgres } from '../test/setup/postgres.js';
import type { LockResult } from '../relayer/app/trader.js';

const N = Number(process.env.BENCH_INSTANCES_LOCKS ?? 200);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  label: string;
  seconds: number;
  perSecond: number;
}

async function measure(label: string, count: number, store: { postgres: string } | 'sqlite'): Promise<Run> {
  const fleet = await startFleet({
    count, url: store === 'sqlite' ? 'unused' : store.postgres, leaseMs: 15_000,
    patch: (raw, i) => {
      raw.ops = { ...(raw.ops as object), logLevel: 'warn' };
      if (store === 'sqlite') raw.store = { sqlite: `${process.env.TMPDIR ?? '/tmp'}/isorelay-bench-${process.pid}-${Date.now()}-${i}.sqlite` };
    },
  });
  try {
    const m = fleet.manifest;
    for (const chain of ['arbitrum', 'optimism']) for (const t of [0, 1]) await approveVault(m, chain, t);
    for (let i = 1; i <= count; i++) await fleet.start(i);
    for (let i = 1; i <= count; i++) fleet.pause(i);
    const locks: LockResult[] = [];
    for (let i = 0; i < N; i++) locks.push(await lock(m, i % 2 === 0 ? 'arbitrum' : 'optimism', { amount: 1_000_000n + BigInt(i), positionId: 10_000n + BigInt(i), trader: i % 4 < 2 ? 0 : 1 }));
    const started = Date.now();
    for (let i = 1; i <= count; i++) fleet.resume(i);
    const deadline = started + 300_000;
    for (;;) {
      const counts = await Promise.all(locks.map((l) => creditCount(m, l.lockId)));
      if (counts.every((c) => c === 1)) break;
      if (counts.some((c) => c > 1)) throw new Error(`${label}: a lock credited twice`);
      if (Date.now() > deadline) throw new Error(`${label}: ${counts.filter((c) => c === 1).length}/${N} credited after 300 s`);
      await sleep(200);
    }
    const seconds = (Date.now() - started) / 1000;
    await fleet.stopAll();
    return { label, seconds, perSecond: N / seconds };
  } finally {
    await fleet.dispose();
  }
}

async function main(): Promise<void> {
  process.stdout.write(`isorelay bench: instances, ${N} locks (both transports) credited from a standing start\n`);
  const pg = await startPostgres();
  try {
    const runs: Run[] = [];
    runs.push(await measure('1 instance, SQLite (baseline)', 1, 'sqlite'));
    for (const count of [1, 2, 3]) runs.push(await measure(`${count} instance${count > 1 ? 's' : ''}, PostgreSQL`, count, { postgres: await pg.freshDatabase(`bench${count}`) }));
    const base = runs[0] as Run;
    for (const r of runs)
      process.stdout.write(`  ${r.label.padEnd(32)} ${r.seconds.toFixed(1).padStart(6)} s  ${r.perSecond.toFixed(1).padStart(6)} credits/s  ×${(r.perSecond / base.perSecond).toFixed(2)} of the baseline\n`);
  } finally {
    await pg.dispose();
  }
}

await main();
