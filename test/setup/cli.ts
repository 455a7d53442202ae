// Runs the `isorelay` CLI the way a user does: a child process with exactly the environment given.
// Also the small process and port helpers the CLI, package and doctor tests share, and a
// long-running command (the daemon) as a child process to watch and stop.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');

export interface CliResult { code: number | null; stdout: string; stderr: string }

/** Runs a program with only PATH, HOME and TMPDIR from this process plus `env`: no tsx, no NODE_OPTIONS. */
export function runProgram(file: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  const base: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR']) if (process.env[k] !== undefined) base[k] = process.env[k];
  return new Promise((done, reject) => {
    const child = spawn(file, args, { cwd, env: { ...base, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

export function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return runProgram(process.execPath, ['--import', 'tsx', 'relayer/cli/main.ts', ...args], REPO, env);
}

export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  /** Everything written so far, stdout and stderr. */
  output(): { stdout: string; stderr: string };
  /** Resolves with the output once `pattern` appears in stdout; fails on exit or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM (SIGKILL after 15 s), then the exit code. */
  stop(): Promise<number | null>;
}

/** A long-running command (`start`, `devnet`) as a child process, the environment as `cli` builds it. */
export function spawnCli(args: string[], env: Record<string, string>): RunningCli {
  const base: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR']) if (process.env[k] !== undefined) base[k] = process.env[k];
  const child = spawn(process.execPath, ['--import', 'tsx', 'relayer/cli/main.ts', ...args], { cwd: REPO, env: { ...base, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((ok) => child.on('close', ok));
  return {
    child,
    output: () => ({ stdout, stderr }),
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let gone = false;
      void exited.then(() => (gone = true));
      while (!pattern.test(stdout)) {
        if (gone) throw new Error(`the command exited before printing ${pattern}:\n${stdout}\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return stdout;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      }
      return exited;
    },
  };
}

/** A port that nothing listens on: bound, then released (free to listen on, refused to connect to). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  await new Promise<void>((ok) => server.close(() => ok()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A first port for `isorelay devnet --port`: its chains' ports (+0 to +2) and second endpoints' (+10 to +12) are all free now. */
export async function freeBasePort(): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const free = await Promise.all([0, 1, 2, 10, 11, 12].map((i) => canListen(base + i)));
    if (free.every(Boolean)) return base;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const server = createServer();
    server.once('error', () => ok(false));
    server.listen(port, '127.0.0.1', () => server.close(() => ok(true)));
  });
}
