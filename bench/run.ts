// `npm run bench`: credits per second and lock→credit latency through the relayer, against a bare
// driver sending the same verify/commit/lzReceive transactions with no relayer logic, in the same
// run on the same devnet (each run from the same chain snapshot). Prints figures and ratios.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Interface, Wallet } from 'ethers';
import { Relayer } from '../relayer/app/relayer.js';
import { lockCollateral, type LockResult } from '../relayer/app/trader.js';
import { ChainClient } from '../relayer/chains/client.js';
import { ourArtifact } from '../relayer/chains/contractsAbi.js';
import { makeProvider } from '../relayer/chains/provider.js';
import { parseConfig } from '../relayer/config/load.js';
import type { Config } from '../relayer/config/schema.js';
import type { DevnetManifest } from '../relayer/devnet/deploy.js';
import { startDevnet } from '../relayer/devnet/network.js';
import { devnetRelayerConfig } from '../relayer/devnet/relayerConfig.js';
import { SqliteStore } from '../relayer/store/sqlite/sqliteStore.js';
import { startBareDriver } from './bareDriver.js';

const THROUGHPUT_LOCKS = Number(process.env.BENCH_LOCKS ?? 60);
const LATENCY_LOCKS = Number(process.env.BENCH_LATENCY_LOCKS ?? 30);
const POLL_MS = 20;
const CREDITED = new Interface(ourArtifact('IsolatedMarginEngine').abi).getEvent('PositionCredited')?.topicHash as string;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Runner = { name: string; start(fromBlocks: Record<string, bigint>): Promise<{ stop(): Promise<void> }> };

/** Watches the engine's PositionCredited logs; records when each lockId was first seen. */
async function watchCredits(base: ChainClient, engine: string, from: bigint, seen: Map<string, number>, until: () => boolean): Promise<void> {
  let next = from;
  while (!until()) {
    const head = await base.blockNumber();
    if (head >= next) {
      const { logs } = await base.logsWithBounds({ address: engine, topics: [CREDITED] }, next, head);
      const now = performance.now();
      for (const l of logs) if (!seen.has(l.topics[1] as string)) seen.set(l.topics[1] as string, now);
      next = head + 1n;
    }
    await sleep(5);
  }
}

async function heads(m: DevnetManifest): Promise<Record<string, bigint>> {
  const out: Record<string, bigint> = {};
  for (const c of Object.values(m.chains)) out[c.name] = BigInt(await makeProvider(c.rpcUrl, c.chainId, 20).getBlockNumber()) + 1n;
  return out;
}

type TimedLock = LockResult & { at: number; transport: string };

async function lockMany(m: DevnetManifest, n: number, spacingMs: number): Promise<TimedLock[]> {
  const sources = Object.values(m.chains).filter((c) => c.role === 'source');
  const trader = m.accounts.traders[0] as { privateKey: string };
  const results: TimedLock[] = [];
  await Promise.all(
    sources.map(async (c, si) => {
      const wallet = new Wallet(trader.privateKey, makeProvider(c.rpcUrl, c.chainId, 5));
      for (let i = si; i < n; i += sources.length) {
        const r = await lockCollateral({ trader: wallet, vault: c.contracts.vault as string, token: c.contracts.usdc as string, amount: 1_000_000n + BigInt(i), dstChainId: 8453n, positionId: BigInt(i + 1) });
        results.push({ ...r, at: performance.now(), transport: c.transport ?? 'layerzero' });
        if (spacingMs > 0) await sleep(spacingMs);
      }
    }),
  );
  return results;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

interface Measured {
  perSecond: number;
  latencies: number[];
  byTransport: Record<string, number[]>;
}

async function measure(m: DevnetManifest, runner: Runner, mode: 'throughput' | 'latency'): Promise<Measured> {
  const base = Object.values(m.chains).find((c) => c.role === 'destination');
  if (base?.contracts.engine === undefined) throw new Error('no engine');
  const cfg = parseConfig(devnetRelayerConfig(m, { sqlite: ':memory:' }));
  const baseClient = new ChainClient(base.name, cfg.chains[base.name] as Config['chains'][string]);
  const from = await heads(m);
  const seen = new Map<string, number>();
  const n = mode === 'throughput' ? THROUGHPUT_LOCKS : LATENCY_LOCKS;
  let locks: TimedLock[] = [];
  let started = 0;
  let done = false;
  const watcher = watchCredits(baseClient, base.contracts.engine, from[base.name] ?? 0n, seen, () => done);
  let handle: { stop(): Promise<void> };
  if (mode === 'throughput') {
    // All locks first, then the deliverer starts: the time to drain the backlog.
    locks = await lockMany(m, n, 0);
    started = performance.now();
    handle = await runner.start(from);
  } else {
    handle = await runner.start(from);
    await sleep(200);
    locks = await lockMany(m, n, 120);
  }
  const deadline = performance.now() + 120_000;
  while (!locks.every((l) => seen.has(l.lockId)) && performance.now() < deadline) await sleep(5);
  const finished = performance.now();
  done = true;
  await watcher;
  await handle.stop();
  const credited = locks.filter((l) => seen.has(l.lockId)).length;
  if (credited !== locks.length) throw new Error(`${runner.name}: only ${credited}/${locks.length} credited`);
  const latencyOf = (l: TimedLock) => (seen.get(l.lockId) as number) - l.at;
  const byTransport: Record<string, number[]> = {};
  for (const l of locks) (byTransport[l.transport] ??= []).push(latencyOf(l));
  return { perSecond: mode === 'throughput' ? (n * 1000) / (finished - started) : NaN, latencies: locks.map(latencyOf), byTransport };
}

async function main(): Promise<void> {
  process.stdout.write(
    `isorelay bench: ${THROUGHPUT_LOCKS} locks for throughput, ${LATENCY_LOCKS} spaced locks for latency.\n` +
      '  bare driver: the same verify/commit/lzReceive transactions, no relayer logic; relayer: one transaction per step;\n' +
      '  batched: the relayer through the RelayBatcher (many messages, all three steps, one transaction)\n',
  );
  const devnet = await startDevnet({ blockTimeSeconds: 0.2 });
  const m = devnet.manifest;
  const dir = mkdtempSync(join(tmpdir(), 'isorelay-bench-'));
  const configOf = (batching: boolean) =>
    parseConfig(devnetRelayerConfig(m, { sqlite: join(dir, 'x.sqlite'), pollMs: POLL_MS, confirmations: 0, logLevel: 'silent', batching }));
  const config = configOf(false);
  const relayerKey = new Wallet(m.accounts.relayer.privateKey);
  const dvnSigner = new Wallet(m.accounts.dvnSigner.privateKey);
  const dvnSigners = { second: new Wallet(m.accounts.secondDvnSigner.privateKey) };
  // The bare driver verifies with every DVN the pathway requires, as the relayer does.
  const baseLz = m.chains.base?.layerzero;
  const dvns = [
    { address: baseLz?.dvn ?? '', vid: baseLz?.vid ?? 0, signer: dvnSigner },
    ...(baseLz?.dvns[1] === undefined ? [] : [{ address: baseLz.dvns[1], vid: baseLz.dvnVids[1] ?? 0, signer: dvnSigners.second }]),
  ];
  let runs = 0;
  const relayerRunner = (name: string, cfg: Config): Runner => ({
    name,
    start: async () => {
      // A real file store (WAL, synchronous=FULL), as in production.
      const store = SqliteStore.open(join(dir, `relayer-${runs++}.sqlite`));
      const r = Relayer.create({ config: cfg, store, relayerKey, dvnSigner, dvnSigners });
      await r.start();
      return { stop: async () => { await r.stop(); await store.close(); } };
    },
  });
  const relayer = relayerRunner('relayer', config);
  const batched = relayerRunner('batched', configOf(true));
  const bare: Runner = {
    name: 'bare driver',
    start: async (fromBlocks) => {
      const d = await startBareDriver(config, relayerKey, dvns, { pollMs: POLL_MS, fromBlocks });
      return { stop: () => d.stop() };
    },
  };
  const providers = Object.values(m.chains).map((c) => makeProvider(c.rpcUrl, c.chainId, 20));
  const snap = async () => Promise.all(providers.map((p) => p.send('evm_snapshot', []) as Promise<string>));
  const revert = async (ids: string[]) => Promise.all(providers.map((p, i) => p.send('evm_revert', [ids[i]])));
  try {
    const results: Record<string, Measured> = {};
    for (const mode of ['throughput', 'latency'] as const) {
      for (const runner of [bare, relayer, batched]) {
        const ids = await snap();
        const r = await measure(m, runner, mode);
        await revert(ids);
        const key = `${runner.name}:${mode}`;
        results[key] = r;
        process.stdout.write(
          mode === 'throughput'
            ? `  ${runner.name.padEnd(12)} throughput  ${r.perSecond.toFixed(1)} credits/s\n`
            : `  ${runner.name.padEnd(12)} latency     p50 ${percentile(r.latencies, 50).toFixed(0)} ms  p99 ${percentile(r.latencies, 99).toFixed(0)} ms   (${Object.entries(r.byTransport).map(([t, l]) => `${t} p50 ${percentile(l, 50).toFixed(0)} / p99 ${percentile(l, 99).toFixed(0)} ms`).join(', ')})\n`,
        );
      }
    }
    const bt = results['bare driver:throughput']?.perSecond ?? NaN;
    const bl = results['bare driver:latency']?.latencies ?? [];
    process.stdout.write('\nratios against the bare driver:\n');
    for (const [name, target] of [['relayer', '≥ 0.80×'], ['batched', '≥ 3×']] as const) {
      const t = (results[`${name}:throughput`]?.perSecond ?? NaN) / bt;
      const l = results[`${name}:latency`]?.latencies ?? [];
      process.stdout.write(
        `  ${name.padEnd(8)} credits/s ${t.toFixed(2)}× (target ${target})   latency p50 ${(percentile(l, 50) / percentile(bl, 50)).toFixed(2)}×   p99 ${(percentile(l, 99) / percentile(bl, 99)).toFixed(2)}×\n`,
      );
    }
    process.stdout.write('  (finality is 0 confirmations here, so latency is the relay alone: lock mined → credit seen on base)\n');
  } finally {
    for (const p of providers) p.destroy();
    await devnet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
