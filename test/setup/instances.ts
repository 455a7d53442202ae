// Several relayer instances, each the real daemon (`isorelay start`) in its own process, sharing a
// PostgreSQL store on a devnet of their own (one gas key per instance). The test drives them as an
// operator's supervisor would (and worse): SIGKILL and restart, SIGSTOP and SIGCONT. Each
// instance's log lines are kept, so that a test can count what a fenced instance refused to send
// and check that no secret was ever logged.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { startDevnet, type Devnet } from '../../relayer/devnet/network.js';
import { DVN_SIGNER_KEY_ENV, instanceRelayerKeyEnv, SECOND_DVN_SIGNER_KEY_ENV } from '../../relayer/devnet/relayerConfig.js';

const CLI = join(import.meta.dirname, '..', '..', 'relayer', 'cli', 'main.ts');
export const DATABASE_URL_ENV = 'ISORELAY_DATABASE_URL';

export interface InstanceProcess {
  index: number;
  child: ChildProcess | undefined;
  /** Every line it logged, across restarts. */
  lines: string[];
  /** Its ops server (set once it says it started). */
  opsUrl: string | undefined;
  state: 'running' | 'stopped' | 'killed' | 'exited';
  starts: number;
}

export interface Fleet {
  dir: string;
  manifest: DevnetManifest;
  devnet: Devnet;
  instances: InstanceProcess[];
  start(i: number): Promise<void>;
  kill(i: number): void;
  pause(i: number): void;
  resume(i: number): void;
  /** SIGTERM to all, waiting for each to exit. */
  stopAll(): Promise<void>;
  /** Writes the instances' configs again (stopped instances only), on another database and with `patch` applied. */
  reconfigure(patch?: (raw: Record<string, unknown>, i: number) => void, url?: string): void;
  dispose(): Promise<void>;
}

/** A devnet with `count` gas keys, and `count` instance configs on the database at `url`. */
export async function startFleet(o: { count: number; url: string; leaseMs: number; patch?: (raw: Record<string, unknown>, i: number) => void; env?: (m: DevnetManifest) => Record<string, string> }): Promise<Fleet> {
  const dir = mkdtempSync(join(tmpdir(), 'isorelay-fleet-'));
  const devnet = await startDevnet({ dir, instances: { count: o.count, storeUrlEnv: DATABASE_URL_ENV }, config: { logLevel: 'info' } });
  const m = devnet.manifest;
  const keys = [m.accounts.relayer, ...(m.accounts.moreRelayers ?? [])];
  const originals = Array.from({ length: o.count }, (_, k) => readFileSync(join(dir, `relayer-${k + 1}.yaml`), 'utf8'));
  let url = o.url;
  const writeConfigs = (patch: Fleet['reconfigure'] extends (p: infer P) => unknown ? P : never) => {
    for (let i = 1; i <= o.count; i++) {
      const raw = parse(originals[i - 1] as string) as Record<string, unknown>;
      raw.instance = { name: `i${i}`, leaseMs: o.leaseMs };
      raw.ops = { ...(raw.ops as object), port: 0, logLevel: 'info' };
      o.patch?.(raw, i);
      patch?.(raw, i);
      writeFileSync(join(dir, `relayer-${i}.yaml`), stringify(raw));
    }
  };
  writeConfigs(undefined);
  const instances: InstanceProcess[] = Array.from({ length: o.count }, (_, k) => ({ index: k + 1, child: undefined, lines: [], opsUrl: undefined, state: 'exited', starts: 0 }));
  const env = (i: number): NodeJS.ProcessEnv => ({
    ...process.env,
    [DATABASE_URL_ENV]: url,
    [instanceRelayerKeyEnv(i)]: keys[i - 1]?.privateKey ?? '',
    [DVN_SIGNER_KEY_ENV]: m.accounts.dvnSigner.privateKey,
    [SECOND_DVN_SIGNER_KEY_ENV]: m.accounts.secondDvnSigner.privateKey,
    ...(o.env?.(m) ?? {}),
  });

  const start = async (i: number): Promise<void> => {
    const inst = instances[i - 1] as InstanceProcess;
    if (inst.state === 'running' || inst.state === 'stopped') throw new Error(`instance ${i} is ${inst.state}`);
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'start', '-c', join(dir, `relayer-${i}.yaml`)], { env: env(i), stdio: ['ignore', 'pipe', 'pipe'] });
    inst.child = child;
    inst.state = 'running';
    inst.starts++;
    inst.opsUrl = undefined;
    let buffer = '';
    const onData = (d: Buffer) => {
      buffer += d.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const line of parts) {
        inst.lines.push(line);
        if (line.includes('"isorelay started"')) inst.opsUrl = (JSON.parse(line) as { ops?: string }).ops;
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', () => {
      if (inst.child === child) inst.state = inst.state === 'killed' ? 'killed' : 'exited';
    });
    const deadline = Date.now() + 60_000;
    while (inst.opsUrl === undefined) {
      if (inst.child !== child || child.exitCode !== null || child.signalCode !== null) throw new Error(`instance ${i} exited before it started:\n${inst.lines.slice(-20).join('\n')}`);
      if (Date.now() > deadline) throw new Error(`instance ${i} did not start within 60 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const signal = (i: number, sig: NodeJS.Signals, state: InstanceProcess['state']) => {
    const inst = instances[i - 1] as InstanceProcess;
    inst.child?.kill(sig);
    inst.state = state;
  };

  const stopAll = async (): Promise<void> => {
    await Promise.all(instances.map(async (inst) => {
      const child = inst.child;
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      if (inst.state === 'stopped') child.kill('SIGCONT');
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      inst.state = 'exited';
    }));
  };

  return {
    dir, manifest: m, devnet, instances, start,
    kill: (i) => signal(i, 'SIGKILL', 'killed'),
    pause: (i) => signal(i, 'SIGSTOP', 'stopped'),
    resume: (i) => signal(i, 'SIGCONT', 'running'),
    stopAll,
    reconfigure(patch, newUrl) {
      if (instances.some((x) => x.state === 'running' || x.state === 'stopped')) throw new Error('stop the instances first');
      if (newUrl !== undefined) url = newUrl;
      writeConfigs(patch);
    },
    async dispose() {
      for (const inst of instances) inst.child?.kill('SIGKILL');
      await devnet.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads an instance's /readyz. */
export async function readyz(inst: InstanceProcess): Promise<{ ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> } | null> {
  if (inst.opsUrl === undefined) return null;
  try {
    const res = await fetch(`${inst.opsUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
    return (await res.json()) as { ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> };
  } catch {
    return null;
  }
}
