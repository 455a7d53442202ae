// `npm run soak -- --minutes N`: steady traffic through the relayer on a fresh devnet (a lock every
// 150–300 ms, both transports) for N minutes; per window (one minute) the relayer's RSS and heap
// (after a forced GC), the devnet's anvils' RSS, and lock → credit latency (p50, p99); at the end
// the slope of relayer memory after the warm-up, in MB per 10 minutes. Every lock must be credited.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { Relayer } from '../relayer/app/relayer.js';
import { lockCollateral } from '../relayer/app/trader.js';
import { makeProvider } from '../relayer/chains/provider.js';
import { parseConfig } from '../relayer/config/load.js';
import { startDevnet } from '../relayer/devnet/network.js';
import { devnetRelayerConfig } from '../relayer/devnet/relayerConfig.js';
import { SqliteStore } from '../relayer/store/sqlite/sqliteStore.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};
const MINUTES = arg('minutes', 5);
const WINDOW_MS = arg('window-seconds', 60) * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => bytes / 1024 / 1024;

/** Resident memory of a process by pid, from /proc (Linux), in bytes; null elsewhere. */
function rssOf(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? null : Number(m[1]) * 1024;
  } catch {
    return null;
  }
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * ((ys[i] as number) - my);
    den += (x - mx) ** 2;
  });
  return den === 0 ? 0 : num / den;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc (npm run soak does)');

process.stdout.write(`isorelay soak: ${MINUTES} min of steady locks, windows of ${WINDOW_MS / 1000} s\n`);
// Anvils keep the transactions of their last 2,000 busy blocks: their memory stays bounded too.
const devnet = await startDevnet({ transactionBlockKeeper: 2_000 });
const m = devnet.manifest;
// A store on disk, as the daemon has: an in-memory database would count in the relayer's RSS.
const dir = mkdtempSync(join(tmpdir(), 'isorelay-soak-'));
const config = parseConfig(devnetRelayerConfig(m, { sqlite: join(dir, 'relayer.sqlite'), opsPort: 0, logLevel: 'silent' }), 'soak');
const store = SqliteStore.open(join(dir, 'relayer.sqlite'));
const relayer = Relayer.create({
  config, store, relayerKey: new Wallet(m.accounts.relayer.privateKey), dvnSigner: new Wallet(m.accounts.dvnSigner.privateKey),
  dvnSigners: { second: new Wallet(m.accounts.secondDvnSigner.privateKey) },
});
const lockedAt = new Map<string, number>();
const latencies: number[] = [];
relayer.events.on((e) => {
  if (e.type !== 'message.moved' || e.to !== 'delivered') return;
  const row = store.get(e.id);
  const at = row?.messageId === null || row === undefined ? undefined : lockedAt.get(row.messageId);
  if (at !== undefined) latencies.push(performance.now() - at);
});
await relayer.start();
const sources = Object.values(m.chains).filter((c) => c.role === 'source');
const wallets = sources.map((c) => new Wallet(m.accounts.traders[0]?.privateKey ?? '', makeProvider(c.rpcUrl, c.chainId, 5)));
const anvilPids = Object.values(devnet.nodes).map((n) => n.pid).filter((p) => p > 0);

const started = Date.now();
const end = started + MINUTES * 60_000;
let locks = 0;
let windowStart = started;
const samples: { minute: number; rss: number; heap: number }[] = [];
process.stdout.write('window  locks  relayer RSS MB  heap MB  anvils RSS MB  latency p50 / p99 ms\n');
while (Date.now() < end) {
  const i = locks++;
  const c = sources[i % sources.length];
  const w = wallets[i % wallets.length];
  if (c === undefined || w === undefined) break;
  const r = await lockCollateral({ trader: w, vault: c.contracts.vault as string, token: c.contracts.usdc as string, amount: 1_000_000n + BigInt(i), dstChainId: 8453n, positionId: BigInt(i + 1) });
  lockedAt.set(r.lockId, performance.now());
  await sleep(150 + Math.random() * 150);
  if (Date.now() - windowStart >= WINDOW_MS) {
    windowStart = Date.now();
    gc();
    const mem = process.memoryUsage();
    const window = latencies.splice(0);
    const anvils = anvilPids.map(rssOf).reduce<number>((a, b) => a + (b ?? 0), 0);
    samples.push({ minute: (Date.now() - started) / 60_000, rss: mb(mem.rss), heap: mb(mem.heapUsed) });
    process.stdout.write(`${String(samples.length).padStart(6)}  ${String(locks).padStart(5)}  ${mb(mem.rss).toFixed(1).padStart(14)}  ${mb(mem.heapUsed).toFixed(1).padStart(7)}  ${(anvilPids.length === 0 ? NaN : mb(anvils)).toFixed(0).padStart(13)}  ${percentile(window, 50).toFixed(0)} / ${percentile(window, 99).toFixed(0)}\n`);
  }
}
const creditRoutes = new Set(config.routes.filter((r) => r.direction === 'credit').map((r) => r.name));
const credited = () => store.countsByRoute().filter((r) => creditRoutes.has(r.route)).reduce((n, r) => n + (r.counts.delivered ?? 0), 0);
const deadline = Date.now() + 60_000;
while (credited() < locks && Date.now() < deadline) await sleep(200);
const delivered = credited();
await relayer.stop();
store.close();
await devnet.stop();
rmSync(dir, { recursive: true, force: true });
const warm = samples.slice(Math.min(2, Math.max(0, samples.length - 2)));
const per10 = (k: 'rss' | 'heap') => slope(warm.map((s) => s.minute), warm.map((s) => s[k])) * 10;
process.stdout.write(`\n${delivered}/${locks} locks credited\n`);
process.stdout.write(`after warm-up: relayer RSS ${per10('rss').toFixed(1)} MB / 10 min, heap ${per10('heap').toFixed(1)} MB / 10 min (target: within 5 MB / 10 min)\n`);
if (delivered < locks) process.exitCode = 1;
