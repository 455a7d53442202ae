// `isorelay lock --wait` from the command line: with a relayer running it returns with the credit
// (position, amount, collateral, the destination transaction, the time), naming the transport's
// id for what it is (a LayerZero guid, a Wormhole VAA id); with none it gives up after --timeout
// with exit code 3, saying the lock is done and how to look its message up.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { stringify } from 'yaml';
import { startDaemon, type RunningDaemon } from '../../relayer/app/daemon.js';
import { devnetRelayerConfig } from '../../relayer/devnet/relayerConfig.js';
import { cli } from '../setup/cli.js';
import { creditCount, engine, testConfig, useSharedDevnet } from '../setup/devnet.js';

const TRADER_KEY_ENV = 'ISORELAY_TRADER_KEY';

describe('isorelay lock --wait', function () {
  this.timeout(120_000);
  const devnet = useSharedDevnet();
  let dir: string;
  let configFile: string;
  let env: Record<string, string>;

  beforeEach(() => {
    const m = devnet().manifest;
    dir = mkdtempSync(join(tmpdir(), 'isorelay-lock-wait-'));
    configFile = join(dir, 'relayer.yaml');
    writeFileSync(configFile, stringify(devnetRelayerConfig(m, { sqlite: join(dir, 'relayer.sqlite'), logLevel: 'silent' })));
    env = { [TRADER_KEY_ENV]: m.accounts.traders[0]?.privateKey as string };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** The relayer as a daemon in this process, on the shared devnet; stopped by the test before its chains are reverted. */
  function relayer(): Promise<RunningDaemon> {
    const m = devnet().manifest;
    return startDaemon({
      config: testConfig(m),
      keys: {
        relayer: new Wallet(m.accounts.relayer.privateKey), dvnSigner: new Wallet(m.accounts.dvnSigner.privateKey),
        dvnSigners: { second: new Wallet(m.accounts.secondDvnSigner.privateKey) },
      },
    });
  }

  const lockArgs = (chain: string, position: string, ...more: string[]) =>
    ['lock', '-c', configFile, '--chain', chain, '--token', devnet().manifest.chains[chain]?.contracts.usdc as string, '--amount', '2500', '--position', position, ...more];

  it('returns with the credit when a relayer runs: position, amount, collateral, destination tx and time (LayerZero)', async () => {
    const daemon = await relayer();
    try {
      const r = await cli(lockArgs('arbitrum', '77', '--wait'), env);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^locked 2500 USDC on arbitrum for position 77 on base$/m);
      assert.match(r.stdout, /^ {2}LayerZero guid {3}0x[0-9a-f]{64}$/m, 'the id named for what it is');
      assert.doesNotMatch(r.stdout, /Wormhole|msg id/);
      const lockId = /lockId\s+(0x[0-9a-f]{64})/.exec(r.stdout)?.[1] as string;
      assert.match(r.stdout, /^credited on base \d+\.\d s after the lock$/m);
      assert.match(r.stdout, /^ {2}position {9}77 \(key 0x[0-9a-f]{64}\)$/m);
      assert.match(r.stdout, /^ {2}credited {9}2,500 USDC$/m);
      assert.match(r.stdout, /^ {2}collateral {7}2,500 USDC in the position now$/m);
      const tx = /^credited on base[\s\S]*^ {2}tx {15}(0x[0-9a-f]{64}) \(block \d+\)$/m.exec(r.stdout)?.[1];
      assert.ok(tx !== undefined, r.stdout);
      const m = devnet().manifest;
      const e = engine(m);
      const logs = await e.queryFilter(e.filters.PositionCredited?.(lockId) ?? 'PositionCredited', 0, 'latest');
      assert.deepEqual(logs.map((l) => l.transactionHash), [tx], 'the printed tx is the credit');
      assert.match(r.stderr, /^waiting for the credit on base… \d+ s$/m, 'progress on stderr while waiting');
      assert.ok(!r.stdout.includes(env[TRADER_KEY_ENV]?.slice(2) ?? 'never'), 'the key is never printed');
    } finally {
      await daemon.stop();
    }
  });

  it('prints the lock and its credit as JSON, naming a Wormhole VAA id with its chain, emitter and sequence', async () => {
    const daemon = await relayer();
    try {
      const r = await cli(lockArgs('optimism', '78', '--wait', '--json'), env);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const out = JSON.parse(r.stdout) as Record<string, unknown> & { wormhole: { chain: number; emitter: string; sequence: string }; credit: Record<string, unknown> };
      assert.equal(out.transport, 'wormhole');
      assert.equal(out.transportIdType, 'wormhole-vaa-id');
      assert.match(String(out.transportId), /^0x[0-9a-f]{64}$/);
      const vault = devnet().manifest.chains.optimism?.contracts.vault as string;
      assert.deepEqual({ chain: out.wormhole.chain, emitter: out.wormhole.emitter }, { chain: 24, emitter: vault.slice(2).toLowerCase().padStart(64, '0') });
      assert.match(out.wormhole.sequence, /^\d+$/);
      assert.equal(out.amount, '2500000000');
      assert.equal(out.credit.status, 'credited');
      assert.equal(out.credit.positionId, '78');
      assert.equal(out.credit.amount, '2500000000');
      assert.equal(out.credit.collateral, '2500000000');
      assert.match(String(out.credit.tx), /^0x[0-9a-f]{64}$/);
      assert.equal(typeof out.credit.elapsedMs, 'number');
      assert.equal(await creditCount(devnet().manifest, String(out.lockId)), 1);
    } finally {
      await daemon.stop();
    }
  });

  it('says plainly when the engine processed the lock but sent it back (a position margined by another collateral): exit 1', async () => {
    const m = devnet().manifest;
    const daemon = await relayer();
    try {
      const first = await cli(lockArgs('arbitrum', '81', '--wait'), env);
      assert.equal(first.code, 0, first.stdout + first.stderr);
      const weth = m.chains.arbitrum?.contracts.weth as string;
      const r = await cli(['lock', '-c', configFile, '--chain', 'arbitrum', '--token', weth, '--amount', '1', '--position', '81', '--wait'], env);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /^NOT credited \(\d+\.\d s after the lock\): position 81 is margined by another collateral$/m);
      assert.match(r.stdout, /^ {2}refund {11}a RELEASE of 1 WETH back to you on arbitrum is queued on base as settlement 1$/m);
      assert.match(r.stdout, /^ {19}the operator's keeper sends it within a few seconds, or you do: isorelay send-queued --id 1 \(your key pays the fee\)$/m);
      assert.doesNotMatch(r.stdout, /^credited/m);
    } finally {
      await daemon.stop();
    }
  });

  it('gives up after --timeout with no relayer running: exit 3, the lock printed, how to look its message up', async () => {
    const started = Date.now();
    const r = await cli(lockArgs('arbitrum', '79', '--wait', '--timeout', '2'), env);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.ok(Date.now() - started < 30_000);
    const lockId = /lockId\s+(0x[0-9a-f]{64})/.exec(r.stdout)?.[1] as string;
    assert.ok(lockId !== undefined, r.stdout);
    assert.match(r.stdout, /^no credit on base yet, \d+\.\d s after the lock$/m);
    assert.match(r.stderr, /^CREDIT_TIMEOUT: no credit on base \d+\.\d s after the lock \(--timeout 2\)$/m);
    assert.match(r.stderr, /→ The lock itself is done \(tx 0x[0-9a-f]{64} on arbitrum\): do not lock again/);
    assert.ok(r.stderr.includes(`→ Where the message is and what happens next: isorelay message ${lockId} -c ${configFile}`), r.stderr);
    assert.equal(await creditCount(devnet().manifest, lockId), 0);
  });

  it('refuses a --timeout that is not a positive number, or given without --wait, before locking', async () => {
    const cases: [string[], RegExp][] = [
      [['--timeout', '5'], /--timeout is how long --wait waits: add --wait/],
      [['--wait', '--timeout', 'soon'], /--timeout soon is not a positive number of seconds/],
      [['--wait', '--timeout', '0'], /--timeout 0 is not a positive number of seconds/],
    ];
    for (const [extra, message] of cases) {
      const r = await cli(lockArgs('arbitrum', '80', ...extra), env);
      assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '', 'nothing locked');
    }
  });
});
