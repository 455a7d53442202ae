// `isorelay devnet` prints ready-to-paste exports of every key its configs and the other commands
// read, marked as devnet test keys: pasted into a shell, each config's keys load as the manifest's.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devnetKeyExports } from '../../relayer/cli/commands/devnet.js';
import { TRADER_KEY_ENV } from '../../relayer/cli/commands/lock.js';
import { loadWallet } from '../../relayer/config/secrets.js';
import type { SecretRef } from '../../relayer/config/schema.js';
import { DEVNET_ROLES } from '../../relayer/devnet/chains.js';
import { devnetInstanceConfig, devnetRelayerConfig } from '../../relayer/devnet/relayerConfig.js';
import { REPO } from '../setup/cli.js';
import { useSharedDevnet } from '../setup/devnet.js';

/** The environment a shell has after the lines are pasted into it (bash, as a user would). */
function pasted(lines: string): Record<string, string> {
  const out = execFileSync('bash', ['--norc', '--noprofile', '-c', 'eval "$EXPORTS" && env -0'], { env: { PATH: process.env.PATH ?? '', EXPORTS: lines } }).toString();
  return Object.fromEntries(out.split('\0').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe('isorelay devnet: key exports', function () {
  this.timeout(120_000);
  const devnet = useSharedDevnet();

  it("exports every key of relayer.yaml, of each instance's config and the trader's, each the manifest's account", async () => {
    // The shared devnet sets up no more instances; one started with --instances 2 has their keys in its manifest.
    const m = { ...devnet().manifest, accounts: { ...devnet().manifest.accounts, moreRelayers: DEVNET_ROLES.moreRelayers.map((a) => ({ ...a })) } };
    const text = devnetKeyExports(m, 2);
    assert.match(text, /# DEVNET TEST KEYS: anvil's publicly known development accounts, for this local devnet only\./);
    assert.match(text, /Never use them, or send funds to them, on a real chain/);
    const env = pasted(text);
    const config = devnetRelayerConfig(m, { sqlite: ':memory:' });
    const refs: [string, SecretRef, string][] = [
      ['relayer', config.keys.relayer, m.accounts.relayer.address],
      ['DVN signer', config.keys.dvnSigner as SecretRef, m.accounts.dvnSigner.address],
      ['second DVN signer', config.keys.dvnSigners?.second as SecretRef, m.accounts.secondDvnSigner.address],
      ...(config.keys.attesters ?? []).map((ref, i): [string, SecretRef, string] => [`attester ${i + 1}`, ref, m.accounts.attesters[i]?.address as string]),
      ...[1, 2].map((i): [string, SecretRef, string] => [`instance ${i}`, devnetInstanceConfig(m, { instance: i, sqlite: ':memory:' }).keys.relayer, (i === 1 ? m.accounts.relayer : m.accounts.moreRelayers?.[i - 2])?.address as string]),
      ['trader', { env: TRADER_KEY_ENV }, m.accounts.traders[0]?.address as string],
    ];
    assert.equal(refs.length, 8, 'relayer, two DVN signers, two attesters, two instances, a trader');
    for (const [role, ref, address] of refs) assert.equal((await loadWallet(role, ref, env)).address, address, role);
    assert.equal(text.split('\n').filter((l) => l.startsWith('export ')).length, 8, 'one line per key, nothing else exported');
  });

  it('prints them when it runs the relayer, ready to paste', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isorelay-devnet-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'relayer/cli/main.ts', 'devnet', '--port', '0', '--ops-port', '0', '--quote-port', '0', '--dir', dir], {
      cwd: REPO, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((ok) => child.on('close', ok));
    try {
      await new Promise<void>((ok, fail) => {
        child.stdout.on('data', (b: Buffer) => {
          stdout += b.toString();
          if (stdout.includes('relaying until Ctrl-C')) ok();
        });
        void exited.then((code) => fail(new Error(`the devnet exited (${code}) before it relayed:\n${stdout}\n${stderr}`)));
      });
      const env = pasted(stdout.split('\n').filter((l) => l.startsWith('export ')).join('\n'));
      for (const name of ['ISORELAY_RELAYER_KEY', 'ISORELAY_DVN_SIGNER_KEY', 'ISORELAY_DVN2_SIGNER_KEY', 'ISORELAY_ATTESTER_KEY_1', 'ISORELAY_ATTESTER_KEY_2', TRADER_KEY_ENV])
        assert.match(env[name] ?? '', /^0x[0-9a-f]{64}$/, `${name} in:\n${stdout}`);
      // Not a key: the devnet market maker's URL, for isorelay option; it answers.
      assert.match(env.ISORELAY_QUOTE_URL ?? '', /^http:\/\/127\.0\.0\.1:\d+$/, stdout);
      const health = (await (await fetch(`${env.ISORELAY_QUOTE_URL}/healthz`)).json()) as { quoter: string };
      assert.match(health.quoter, /^0x[0-9a-fA-F]{40}$/);
      assert.match(stdout, /DEVNET TEST KEYS/);
    } finally {
      child.kill('SIGINT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
