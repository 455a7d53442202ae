// `npm run bench` (part): credits per second with one, two and three relayer instances sharing a
// PostgreSQL store, against one instance on SQLite, in the same run. Each instance is the real
// daemon in its own process with its own gas key, on one devnet. For each measurement the
// instances start on a fresh store (scanning from the current heads), are paused (SIGSTOP), N
// locks are made over both transports, the instances are resumed, and the clock runs until every
// lock is credited on chain. Both stores are durable: SQLite with synchronous=FULL, PostgreSQL
// with fsync and synchronous commit on. Configurations alternate over ROUNDS rounds; the median is reported
// (one run varies a lot: LayerZero's per-path nonce order makes deliveries wait on each other).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LockResult } from '../relayer/app/trader.js';
import { approveVault, creditCount, lock, provider } from '../test/setup/devnet.js';
import { startFleet, type Fleet } from '../test/setup/instances.js';
import { startPostgres, type TestPostgres } from '../test/setup/postgres.js';

const N = Number(process.env.BENCH_INSTANCES_LOCKS ?? 200);
const ROUNDS = Number(process.env.BENCH_INSTANCES_ROUNDS ?? 3);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Config {
  label: string;
  count: number;
  store: 'sqlite' | 'postgres';
}

const CONFIGS: Config[] = [
  { label: '1 instance, SQLite (baseline)', count: 1, store: 'sqlite' },
  { label: '1 instance, PostgreSQL', count: 1, store: 'postgres' },
  { label: '2 instances, PostgreSQL', count: 2, store: 'postgres' },
  { label: '3 instances, PostgreSQL', count: 3, store: 'postgres' },
];

let run = 0;

async function measure(fleet: Fleet, pg: TestPostgres, dir: string, c: Config): Promise<number> {
  const m = fleet.manifest;
  const heads = Object.fromEntries(await Promise.all(Object.keys(m.chains).map(async (name) => [name, await provider(m, name).getBlockNumber()] as const)));
  const url = await pg.freshDatabase(`bench${++run}`);
  fleet.reconfigure((raw) => {
    for (const [name, chain] of Object.entries(raw.chains as Record<string, { startBlock?: number }>)) chain.startBlock = (heads[name] ?? 0) + 1;
    if (c.store === 'sqlite') raw.store = { sqlite: join(dir, `run-${run}.sqlite`) };
  }, url);
  for (let i = 1; i <= c.count; i++) await fleet.start(i);
  for (let i = 1; i <= c.count; i++) fleet.pause(i);
  const locks: LockResult[] = [];
  for (let i = 0; i < N; i++) locks.push(await lock(m, i % 2 === 0 ? 'arbitrum' : 'optimism', { amount: 1_000_000n + BigInt(i), positionId: 10_000n + BigInt(run * N + i), trader: i % 4 < 2 ? 0 : 1 }));
  const started = Date.now();
  for (let i = 1; i <= c.count; i++) fleet.resume(i);
  const deadline = started + 300_000;
  for (;;) {
    const counts = await Promise.all(locks.map((l) => creditCount(m, l.lockId)));
    if (counts.some((n) => n > 1)) throw new Error(`${c.label}: a lock credited twice`);
    if (counts.every((n) => n === 1)) break;
    if (Date.now() > deadline) throw new Error(`${c.label}: ${counts.filter((n) => n === 1).length}/${N} credited after 300 s`);
    await sleep(100);
  }
  const seconds = (Date.now() - started) / 1000;
  await fleet.stopAll();
  return seconds;
}

async function main(): Promise<void> {
  process.stdout.write(`isorelay bench: instances, ${N} locks (both transports) credited from a standing start, median of ${ROUNDS} rounds\n`);
  // Durable, as in production (fsync and synchronous commit on), like SQLite's synchronous=FULL.
  const pg = await startPostgres({ durable: true });
  const dir = mkdtempSync(join(tmpdir(), 'isorelay-bench-instances-'));
  const fleet = await startFleet({ count: 3, url: 'postgres://unused', leaseMs: 15_000 });
  try {
    const m = fleet.manifest;
    for (const chain of ['arbitrum', 'optimism']) for (const t of [0, 1]) await approveVault(m, chain, t);
    const times = new Map<string, number[]>(CONFIGS.map((c) => [c.label, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order, so that no configuration always runs first or last.
      for (const c of round % 2 === 0 ? CONFIGS : [...CONFIGS].reverse()) {
        const s = await measure(fleet, pg, dir, c);
        times.get(c.label)?.push(s);
        process.stdout.write(`  round ${round + 1}: ${c.label}: ${s.toFixed(1)} s\n`);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const base = N / median(times.get(CONFIGS[0]?.label ?? '') ?? []);
    for (const c of CONFIGS) {
      const sec = median(times.get(c.label) ?? []);
      process.stdout.write(`  ${c.label.padEnd(32)} ${sec.toFixed(1).padStart(6)} s  ${(N / sec).toFixed(1).padStart(6)} credits/s  ×${(N / sec / base).toFixed(2)} of the baseline\n`);
    }
  } finally {
    await fleet.dispose();
    await pg.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
