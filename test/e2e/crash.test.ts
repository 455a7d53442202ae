// The relayer killed with SIGKILL between any two stages, and at the riskiest moments inside one
// (a transaction mined, its status not yet stored), then restarted: nothing lost, nothing repeated.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devnetRelayerYaml } from '../../relayer/devnet/relayerConfig.js';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import { creditCount, lock, nonceOf, useSharedDevnet } from '../setup/devnet.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'crashingRelayer.ts');

function runRelayer(configPath: string, env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, configPath], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
}

/**
 * Every boundary between stages, and inside a step right after its transaction is mined, per
 * transport (arbitrum reaches base over LayerZero, optimism over Wormhole) and delivery mode.
 */
const CASES = [
  { chain: 'arbitrum', mode: 'perStep', txs: 4, points: ['observed', 'moved:finalized', 'mined:dvnVerify', 'moved:verified', 'mined:commitVerification', 'mined:lzReceive', 'moved:submitted'] },
  { chain: 'arbitrum', mode: 'batched', txs: 1, points: ['observed', 'moved:finalized', 'mined:relayBatch', 'moved:submitted'] },
  { chain: 'optimism', mode: 'perStep', txs: 1, points: ['observed', 'moved:finalized', 'mined:receiveWormholeMessage', 'moved:submitted'] },
  { chain: 'optimism', mode: 'batched', txs: 1, points: ['observed', 'moved:finalized', 'mined:relayBatch', 'moved:submitted'] },
] as const;

describe('crash recovery (SIGKILL between stages)', function () {
  this.timeout(180_000);
  const devnet = useSharedDevnet();
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'isorelay-crash-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  for (const { chain, mode, txs, points } of CASES) {
   for (const point of points) {
    it(`${chain} (${chain === 'arbitrum' ? 'LayerZero' : 'Wormhole'}), ${mode}: killed at ${point} and restarted: credited exactly once, no step sent twice`, async () => {
      const m = devnet().manifest;
      const configPath = join(dir, 'relayer.yaml');
      writeFileSync(configPath, devnetRelayerYaml(m, { sqlite: join(dir, 'relayer.sqlite'), opsPort: 0, logLevel: 'silent', batching: mode === 'batched' }));
      const env = { ISORELAY_RELAYER_KEY: m.accounts.relayer.privateKey, ISORELAY_DVN_SIGNER_KEY: m.accounts.dvnSigner.privateKey, ISORELAY_DVN2_SIGNER_KEY: m.accounts.secondDvnSigner.privateKey };
      const nonceBefore = await nonceOf(m, 'base', m.accounts.relayer.address);
      const l = await lock(m, chain);

      const crashed = await runRelayer(configPath, { ...env, CRASH_AT: point });
      assert.equal(crashed.signal, 'SIGKILL', `the relayer should have died at ${point}: ${crashed.out}`);
      const restarted = await runRelayer(configPath, env);
      assert.equal(restarted.code, 0, restarted.out);

      assert.equal(await creditCount(m, l.lockId), 1);
      // each DVN's verify, commit, lzReceive: each exactly once (or one batch), whatever the crash point.
      assert.equal(await nonceOf(m, 'base', m.accounts.relayer.address), nonceBefore + txs);
      const store = SqliteStore.open(join(dir, 'relayer.sqlite'), { readonly: true });
      const rows = await store.list({});
      await store.close();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.status, 'delivered');
      assert.equal(rows[0]?.messageId, l.lockId);
    });
   }
  }
});
