// Runs the `isorelay` CLI the way a user does: a child process with exactly the environment given.
// Also the small process and port helpers the CLI, package and doctor tests share.
import { spawn } from 'node:child_process';
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

/** A port that nothing listens on: bound, then released (free to listen on, refused to connect to). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  await new Promise<void>((ok) => server.close(() => ok()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
