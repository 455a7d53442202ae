// `isorelay devnet` prints ready-to-paste exports of every key its configs and the other commands
// read, marked as devnet test keys, and of what else they need (the config, the tokens' addresses):
// pasted into a shell, each config's keys load as the manifest's and `npx isorelay status` runs
// without -c; the long-running devnet keeps its transactions for hours, not 64 blocks.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devnetKeyExports, devnetSetupExports } from '../../relayer/cli/commands/devnet.js';
import { TRADER_KEY_ENV } from '../../relayer/cli/commands/lock.js';
import { loadWallet } from '../../relayer/config/secrets.js';
import type { SecretRef } from '../../relayer/config/schema.js';
import { DEVNET_ROLES } from '../../relayer/devnet/chains.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { devnetInstanceConfig, devnetRelayerConfig } from '../../relayer/devnet/relayerConfig.js';
import { cli, REPO } from '../setup/cli.js';
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

  it('exports the config and every token address, and every $VARIABLE the README and docs/options.md use', function () {
    const m = devnet().manifest;
    const env = pasted(devnetSetupExports(m, '/somewhere/relayer.yaml'));
    assert.equal(env.ISORELAY_CONFIG, '/somewhere/relayer.yaml');
    const tokens = { ARB_USDC: m.chains.arbitrum?.contracts.usdc, ARB_WETH: m.chains.arbitrum?.contracts.weth, OP_USDC: m.chains.optimism?.contracts.usdc, OP_WETH: m.chains.optimism?.contracts.weth, BASE_USDC: m.chains.base?.contracts.settlementToken };
    for (const [name, address] of Object.entries(tokens)) assert.equal(env[name], address, name);
    const exported = new Set(Object.keys({ ...pasted(devnetKeyExports(m, 0, 'http://127.0.0.1:9480')), ...env }));
    const used = ['README.md', 'docs/options.md'].flatMap((f) => [...readFileSync(join(REPO, f), 'utf8').matchAll(/\$([A-Z][A-Z0-9_]*)\b/g)].map((x) => x[1] as string));
    assert.ok(used.includes('ARB_USDC'), 'docs/options.md locks with --token $ARB_USDC');
    assert.deepEqual([...new Set(used)].filter((v) => !exported.has(v)), [], 'variables the docs use that the devnet does not export');
  });

  describe('a running devnet (isorelay devnet, as the README starts it, on free ports)', function () {
    let dir: string;
    let stdout = '';
    let stderr = '';
    let child: ReturnType<typeof spawn>;
    let exited: Promise<number | null>;
    let env: Record<string, string>;
    let m: DevnetManifest;

    before(async function () {
      dir = mkdtempSync(join(tmpdir(), 'isorelay-devnet-'));
      child = spawn(process.execPath, ['--import', 'tsx', 'relayer/cli/main.ts', 'devnet', '--port', '0', '--ops-port', '0', '--quote-port', '0', '--dir', dir], {
        cwd: REPO, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      });
      child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
      exited = new Promise<number | null>((ok) => child.on('close', ok));
      await new Promise<void>((ok, fail) => {
        child.stdout?.on('data', (b: Buffer) => {
          stdout += b.toString();
          if (stdout.includes('relaying until Ctrl-C')) ok();
        });
        void exited.then((code) => fail(new Error(`the devnet exited (${code}) before it relayed:\n${stdout}\n${stderr}`)));
      });
      env = pasted(stdout.split('\n').filter((l) => l.startsWith('export ')).join('\n'));
      m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as DevnetManifest; // written by the devnet just started
    });
    after(async function () {
      child?.kill('SIGINT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    });

    it('prints the keys, the config and the token addresses, ready to paste', async function () {
      for (const name of ['ISORELAY_RELAYER_KEY', 'ISORELAY_DVN_SIGNER_KEY', 'ISORELAY_DVN2_SIGNER_KEY', 'ISORELAY_ATTESTER_KEY_1', 'ISORELAY_ATTESTER_KEY_2', TRADER_KEY_ENV])
        assert.match(env[name] ?? '', /^0x[0-9a-f]{64}$/, `${name} in:\n${stdout}`);
      // Not a key: the devnet market maker's URL, for isorelay option; it answers.
      assert.match(env.ISORELAY_QUOTE_URL ?? '', /^http:\/\/127\.0\.0\.1:\d+$/, stdout);
      const health = (await (await fetch(`${env.ISORELAY_QUOTE_URL}/healthz`)).json()) as { quoter: string };
      assert.match(health.quoter, /^0x[0-9a-fA-F]{40}$/);
      assert.match(stdout, /DEVNET TEST KEYS/);
      assert.equal(env.ISORELAY_CONFIG, join(dir, 'relayer.yaml'));
      assert.equal(env.ARB_USDC, m.chains.arbitrum?.contracts.usdc);
      assert.equal(env.OP_WETH, m.chains.optimism?.contracts.weth);
    });

    it('says to run `npx isorelay status`, which runs on the exports alone (no -c)', async function () {
      assert.match(stdout, /paste the exports above, then: npx isorelay status\n/);
      const status = await cli(['status'], env);
      assert.equal(status.code, 0, `${status.stdout}\n${status.stderr}`);
      assert.match(status.stdout, /arbitrum/);
    });

    it('answers `lock --token USDC` with the exported variable to use', async function () {
      const r = await cli(['lock', '--chain', 'arbitrum', '--token', 'USDC', '--amount', '5', '--position', '1'], env);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /USAGE: --token USDC is not an address: --token takes the token contract's address on arbitrum/);
      assert.match(r.stderr, /→ On the devnet: paste the exports `isorelay devnet` printed, then --token \$ARB_USDC; the addresses are also in \.devnet\/manifest\.json \(chains\.arbitrum\.contracts\)/);
    });

    it("still has a lock's source receipt 200 blocks later: isorelay message finds it", async function () {
      const locked = await cli(['lock', '--chain', 'arbitrum', '--token', env.ARB_USDC ?? '', '--amount', '5', '--position', '1', '--wait', '--timeout', '60', '--json'], env);
      assert.equal(locked.code, 0, `${locked.stdout}\n${locked.stderr}`);
      const { lockId } = JSON.parse(locked.stdout) as { lockId: string }; // lock --json prints one object with the lock's ids
      // 200 blocks: about 100 s of idle blocks, past the 64 blocks of transactions the devnet kept before.
      for (const c of Object.values(m.chains)) {
        const mined = await fetch(c.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_mine', params: ['0xc8'] }) });
        assert.equal(mined.status, 200);
      }
      const r = await cli(['message', lockId], env);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /source: in block \d+, succeeded/);
    });
  });
});
