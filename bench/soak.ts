// `npm run soak -- --minutes N`: steady traffic (a lock every 150–300 ms, both transports) through
// the relayer daemon (`isorelay start`, its own process, as operators run it) on a fresh devnet,
// for N minutes. Per window: the daemon's RSS and heap (scraped from its /metrics; the heap as the
// lowest reading of the window, i.e. after a collection), the anvils' RSS, and lock → credit latency
// (p50, p99); at the end the slope of the daemon's memory after the warm-up, in MB per 10 minutes.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Interface, Wallet } from 'ethers';
import { lockCollateral } from '../relayer/app/trader.js';
import { ChainClient } from '../relayer/chains/client.js';
import { ourArtifact } from '../relayer/chains/contractsAbi.js';
import { makeProvider } from '../relayer/chains/provider.js';
import { loadConfig } from '../relayer/config/load.js';
import { LONG_RUNNING_HISTORY, startDevnet } from '../relayer/devnet/network.js';
import { DVN_SIGNER_KEY_ENV, RELAYER_KEY_ENV, SECOND_DVN_SIGNER_KEY_ENV } from '../relayer/devnet/relayerConfig.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};
const MINUTES = arg('minutes', 5);
const WINDOW_MS = arg('window-seconds', 60) * 1000;
/**
 * --warmup-minutes: left out of the slope. The daemon's bounded caches (1,000 agreed source
 * verifications, 1,000 LayerZero packets) and V8's heap fill at this traffic in about 8 minutes.
 * Default: a third of the run, at most 10 minutes.
 */
const WARMUP_MINUTES = arg('warmup-minutes', Math.min(10, MINUTES / 3));
/**
 * --keep-states N --keep-tx-blocks N: run the anvils with this history instead of the long-running
 * devnet's (LONG_RUNNING_HISTORY), to compare their memory in one session.
 */
const HISTORY = (() => {
  const given = (name: string): number | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const v = Number(process.argv[i + 1]);
    if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a whole number`);
    return v;
  };
  const keepStates = given('keep-states');
  const keepTransactionBlocks = given('keep-tx-blocks');
  return keepStates === undefined && keepTransactionBlocks === undefined
    ? LONG_RUNNING_HISTORY
    : { keepStates: keepStates ?? LONG_RUNNING_HISTORY.keepStates, keepTransactionBlocks: keepTransactionBlocks ?? LONG_RUNNING_HISTORY.keepTransactionBlocks };
})();
/** --heap-snapshots: the daemon writes a V8 heap snapshot (into the working directory) after the warm-up and at the end, to compare. */
const HEAP_SNAPSHOTS = process.argv.includes('--heap-snapshots');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => bytes / 1024 / 1024;
const CREDITED = new Interface(ourArtifact('IsolatedMarginEngine').abi).getEvent('PositionCredited')?.topicHash as string;

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

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

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** One scrape of the daemon's /metrics: its RSS and used heap, in bytes. */
async function scrape(url: string): Promise<{ rss: number; heap: number } | null> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? NaN);
    return { rss: value('process_resident_memory_bytes'), heap: value('nodejs_heap_size_used_bytes') };
  } catch {
    return null;
  }
}

process.stdout.write(`isorelay soak: ${MINUTES} min of steady locks through the daemon, windows of ${WINDOW_MS / 1000} s; the anvils keep ${HISTORY.keepStates} states and the transactions of ${HISTORY.keepTransactionBlocks} blocks\n`);
const dir = mkdtempSync(join(tmpdir(), 'isorelay-soak-'));
const opsPort = await freePort();
// The anvils run as `isorelay devnet` runs them for days (longRunning); their RSS is printed too.
const devnet = await startDevnet({ dir, config: { opsPort, logLevel: 'warn' }, longRunning: true, history: HISTORY });
const m = devnet.manifest;
const daemon = spawn(process.execPath, [...(HEAP_SNAPSHOTS ? ['--heapsnapshot-signal=SIGUSR2'] : []), '--import', 'tsx', join(process.cwd(), 'relayer/cli/main.ts'), 'start', '-c', join(dir, 'relayer.yaml')], {
  env: { ...process.env, [RELAYER_KEY_ENV]: m.accounts.relayer.privateKey, [DVN_SIGNER_KEY_ENV]: m.accounts.dvnSigner.privateKey, [SECOND_DVN_SIGNER_KEY_ENV]: m.accounts.secondDvnSigner.privateKey },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const ops = `http://127.0.0.1:${opsPort}`;
for (let i = 0; (await scrape(ops)) === null; i++) {
  if (i > 200) throw new Error('the daemon did not start');
  await sleep(100);
}

// Credits, watched on the engine: lock → credit latency.
const config = loadConfig(join(dir, 'relayer.yaml'));
const base = new ChainClient('base', config.chains.base ?? (() => { throw new Error('no base'); })());
const engine = m.chains.base?.contracts.engine as string;
const lockedAt = new Map<string, number>();
const latencies: number[] = [];
let credited = 0;
let watching = true;
const watcher = (async () => {
  let next = BigInt(await base.blockNumber());
  while (watching) {
    try {
      const head = await base.blockNumber();
      if (head >= next) {
        const { logs } = await base.logsWithBounds({ address: engine, topics: [CREDITED] }, next, head);
        for (const l of logs) {
          const at = lockedAt.get(l.topics[1] as string);
          credited++;
          if (at !== undefined) latencies.push(performance.now() - at);
        }
        next = head + 1n;
      }
    } catch {
      // the next poll reads the range again
    }
    await sleep(50);
  }
})();

const sources = Object.values(m.chains).filter((c) => c.role === 'source');
const wallets = sources.map((c) => new Wallet(m.accounts.traders[0]?.privateKey ?? '', makeProvider(c.rpcUrl, c.chainId, 5)));
const anvilPids = Object.values(devnet.nodes).map((n) => n.pid).filter((p) => p > 0);
const started = Date.now();
const end = started + MINUTES * 60_000;
let locks = 0;
let windowStart = started;
let heapLow = Infinity;
let sampledAt = 0;
const samples: { minute: number; rss: number; heap: number; anvils: number }[] = [];
process.stdout.write('window  locks  daemon RSS MB  heap MB  anvils RSS MB  latency p50 / p99 ms\n');
/**
 * A devnet that keeps no old states (--keep-states 0) fails a read at `latest` that a new block
 * overtakes with BlockOutOfRangeError before anything is sent (ethers reports it from eth_call as a
 * revert without a reason): such a lock is tried again, and counted.
 */
let retried = 0;
async function lockWithRetry<T>(lock: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await lock();
    } catch (e) {
      const text = String((e as { message?: string }).message ?? e) + JSON.stringify((e as { info?: unknown }).info ?? null);
      if (attempt >= 5 || !/BlockOutOfRangeError|reverted without a reason/.test(text)) throw e;
      retried++;
      await sleep(50);
    }
  }
}

while (Date.now() < end) {
  const i = locks++;
  const c = sources[i % sources.length];
  const w = wallets[i % wallets.length];
  if (c === undefined || w === undefined) break;
  const r = await lockWithRetry(() => lockCollateral({ trader: w, vault: c.contracts.vault as string, token: c.contracts.usdc as string, amount: 1_000_000n + BigInt(i), dstChainId: 8453n, positionId: BigInt(i + 1) }));
  lockedAt.set(r.lockId, performance.now());
  await sleep(150 + Math.random() * 150);
  if (Date.now() - sampledAt > 5_000) {
    sampledAt = Date.now();
    const s = await scrape(ops);
    if (s !== null) heapLow = Math.min(heapLow, s.heap);
  }
  if (Date.now() - windowStart >= WINDOW_MS) {
    windowStart = Date.now();
    const rss = rssOf(daemon.pid ?? 0);
    const window = latencies.splice(0);
    const anvils = anvilPids.map(rssOf).reduce((a, b) => a + b, 0);
    samples.push({ minute: (Date.now() - started) / 60_000, rss: mb(rss), heap: mb(heapLow), anvils: mb(anvils) });
    process.stdout.write(`${String(samples.length).padStart(6)}  ${String(locks).padStart(5)}  ${mb(rss).toFixed(1).padStart(13)}  ${mb(heapLow).toFixed(1).padStart(7)}  ${mb(anvils).toFixed(0).padStart(13)}  ${percentile(window, 50).toFixed(0)} / ${percentile(window, 99).toFixed(0)}\n`);
    heapLow = Infinity;
    if (HEAP_SNAPSHOTS && samples.length > 0 && samples[samples.length - 1]!.minute >= WARMUP_MINUTES && (samples[samples.length - 2]?.minute ?? 0) < WARMUP_MINUTES) daemon.kill('SIGUSR2');
  }
}
if (HEAP_SNAPSHOTS) {
  daemon.kill('SIGUSR2');
  await sleep(15_000); // writing a snapshot stops the daemon for a while
}
const deadline = Date.now() + 60_000;
while (credited < locks && Date.now() < deadline) await sleep(200);
watching = false;
await watcher;
daemon.kill('SIGTERM');
await new Promise((r) => daemon.once('exit', r));
await devnet.stop();
rmSync(dir, { recursive: true, force: true });
// The windows that end after the warm-up (at least the last two, for a slope).
const warm = samples.filter((s, i) => s.minute > WARMUP_MINUTES || i >= samples.length - 2);
const per10 = (k: 'rss' | 'heap' | 'anvils') => slope(warm.map((s) => s.minute), warm.map((s) => s[k])) * 10;
process.stdout.write(`\n${credited}/${locks} locks credited; ${retried} lock attempts failed on a lost state and were tried again\n`);
process.stdout.write(`after warm-up (windows ${samples.length - warm.length + 1}–${samples.length}): daemon RSS ${per10('rss').toFixed(1)} MB / 10 min, heap ${per10('heap').toFixed(1)} MB / 10 min (target: within 5 MB / 10 min)\n`);
process.stdout.write(`anvils (${anvilPids.length}): ${per10('anvils').toFixed(1)} MB / 10 min, about ${((per10('anvils') * 6 * 24) / 1024).toFixed(1)} GB a day at this traffic\n`);
if (credited < locks) process.exitCode = 1;
