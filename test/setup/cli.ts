// Runs the `isorelay` CLI the way a user does: a child process with exactly the environment given.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');

export interface CliResult { code: number | null; stdout: string; stderr: string }

export function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((done, reject) => {
    const base: Record<string, string> = {};
    for (const k of ['PATH', 'HOME', 'TMPDIR']) if (process.env[k] !== undefined) base[k] = process.env[k];
    const child = spawn(process.execPath, ['--import', 'tsx', 'relayer/cli/main.ts', ...args], { cwd: REPO, env: { ...base, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}
