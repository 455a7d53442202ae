// The `isorelay` CLI run as a child process against a running devnet: doctor, config errors,
// lock → positions (delivered by an in-process relayer) and status over the relayer's store.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Interface, Wallet } from 'ethers';
import { stringify } from 'yaml';
import { Relayer } from '../../relayer/app/relayer.js';
import { ChainClient } from '../../relayer/chains/client.js';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import { parseConfig } from '../../relayer/config/load.js';
import type { RawConfig } from '../../relayer/config/schema.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { startDevnet, type Devnet } from '../../relayer/devnet/network.js';
import { devnetRelayerConfig, devnetRelayerYaml, DVN_SIGNER_KEY_ENV, RELAYER_KEY_ENV, SECOND_DVN_SIGNER_KEY_ENV } from '../../relayer/devnet/relayerConfig.js';
import { MESSAGE_STATUSES } from '../../relayer/messages/status.js';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import { cli, closedPort } from '../setup/cli.js';

const TRADER_KEY_ENV = 'ISORELAY_TRADER_KEY';

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

describe('isorelay CLI against a devnet', function () {
  this.timeout(120_000);
  let devnet: Devnet;
  let m: DevnetManifest;
  let dir: string;
  let configFile: string;
  let keys: Record<string, string>;

  const writeConfig = (name: string, edit: (raw: RawConfig) => void): string => {
    const raw = devnetRelayerConfig(m, { sqlite: join(dir, 'relayer.sqlite'), logLevel: 'silent' });
    edit(raw);
    const file = join(dir, name);
    writeFileSync(file, stringify(raw));
    return file;
  };

  before(async function () {
    devnet = await startDevnet();
    m = devnet.manifest;
    dir = mkdtempSync(join(tmpdir(), 'isorelay-cli-'));
    configFile = join(dir, 'relayer.yaml');
    writeFileSync(configFile, devnetRelayerYaml(m, { sqlite: join(dir, 'relayer.sqlite'), logLevel: 'silent' }));
    const trader = m.accounts.traders[0];
    if (trader === undefined) throw new Error('the manifest has no trader');
    keys = {
      [RELAYER_KEY_ENV]: m.accounts.relayer.privateKey,
      [DVN_SIGNER_KEY_ENV]: m.accounts.dvnSigner.privateKey,
      [SECOND_DVN_SIGNER_KEY_ENV]: m.accounts.secondDvnSigner.privateKey,
      [TRADER_KEY_ENV]: trader.privateKey,
    };
  });

  after(async function () {
    await devnet?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  describe('doctor', function () {
    it('passes on a correctly wired devnet and exits 0', async function () {
      const r = await cli(['doctor', '-c', configFile], keys);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /✓ relayer key is a DVN admin/);
      assert.match(r.stdout, /✓ vault's peer for base \(eid 30184\) is the engine \[route arbitrum-base\]/);
      assert.match(r.stdout, /✓ engine trusts the vault as Wormhole emitter of chain 24 \[route optimism-base\]/);
      assert.match(r.stdout, /✓ signed-VAA API answers \[route optimism-base\]/);
      assert.match(r.stdout, /✓ vault takes RELEASE\/SEIZE only from the engine on base \[route base-optimism\]/);
      assert.match(r.stdout, /✓ engine sends back to arbitrum over layerzero \[route base-arbitrum\]/);
      assert.match(r.stdout, /✓ engine quotes the messaging fee of a RELEASE\/SEIZE \[route base-arbitrum\]/);
      assert.match(r.stdout, /✓ relayer has gas/);
      assert.match(r.stdout, /✓ engine owner is a timelock: 0x[0-9a-fA-F]{40}: every admin action waits 2 s/);
      assert.match(r.stdout, /✓ engine pause role: 0x[0-9a-fA-F]{40} can pause at once/);
      assert.match(r.stdout, /✓ DVN signer "second" is a signer of DVN 0x/);
      assert.match(r.stdout, /✓ every role has its own key: 3 keys/);
      assert.match(r.stdout, /✓ verification quorum: 2 of 2 independent providers must serve each message alike/);
      assert.match(r.stdout, /✓ provider forwarder serves chain 42161/);
      assert.match(r.stdout, /✓ tokens the vault takes are collateral on the engine \[route arbitrum-base\]: 2 token\(s\)/);
      assert.match(r.stdout, /✓ vault checks a ETH-USD SEIZE against its own oracle \[route base-optimism\]/);
      assert.doesNotMatch(r.stdout, /✗/);
      assert.doesNotMatch(r.stdout, /^  ! /m, "no warnings on a correctly wired devnet");
      assert.match(r.stdout, /doctor: all \d+ checks passed/);
    });

    it('warns about a verification quorum of one provider', async function () {
      const file = writeConfig('quorum-one.yaml', (raw) => {
        const arb = raw.chains.arbitrum;
        if (arb === undefined) throw new Error('no arbitrum chain');
        arb.verifyQuorum = 1;
      });
      const r = await cli(['doctor', '-c', file], keys);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /! verification quorum: verifyQuorum 1: what one provider serves is signed as it is/);
    });

    it('fails naming the environment variable when the relayer key is missing', async function () {
      const { [RELAYER_KEY_ENV]: _dropped, ...rest } = keys;
      const r = await cli(['doctor', '-c', configFile], rest);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`✗ relayer key: .*environment variable ${RELAYER_KEY_ENV}`));
    });

    it('fails on one RPC URL of a closed port, even when another URL of the chain answers', async function () {
      const port = await closedPort();
      const file = writeConfig('closed-port.yaml', (raw) => {
        const base = raw.chains.base;
        if (base === undefined) throw new Error('no base chain');
        base.rpcUrls = [...base.rpcUrls, `http://127.0.0.1:${port}`];
      });
      const r = await cli(['doctor', '-c', file], keys);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`✗ RPC http://127\\.0\\.0\\.1:${port} reachable: no answer: .* is unreachable`));
      assert.match(r.stdout, /✓ relayer key is a DVN admin/, 'the other checks still run through the working URL');
    });
  });

  describe('config errors', function () {
    it('names the invalid field and exits 1', async function () {
      const file = writeConfig('invalid.yaml', (raw) => {
        // The point of the test is a value of the wrong type, which the type system forbids.
        (raw.chains.base as unknown as { chainId: string }).chainId = 'x';
      });
      const r = await cli(['status', '-c', file], keys);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /CONFIG_INVALID/);
      assert.match(r.stderr, /chains\.base\.chainId/);
    });

    it('says plainly that the config file is missing', async function () {
      const missing = join(dir, 'nope.yaml');
      const r = await cli(['doctor', '-c', missing], keys);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`CONFIG_NOT_FOUND: cannot read config file ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    });
  });

  describe('lock, positions and status', function () {
    it('says there is no store before the relayer ran', async function () {
      const r = await cli(['status', '-c', configFile], keys);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no store yet at .*relayer\.sqlite: has the relayer run\?/);
    });

    it('refuses bad lock inputs with a clear message', async function () {
      const usdc = m.chains.arbitrum?.contracts.usdc ?? '';
      const base = ['lock', '-c', configFile, '--token', usdc, '--amount', '1', '--position', '1'];
      const cases: [string[], RegExp][] = [
        [['--chain', 'solana'], /unknown chain "solana"/],
        [['--chain', 'base'], /chain "base" is not the source of any route/],
        [['--chain', 'arbitrum', '--token', '0x1234'], /--token 0x1234 is not an address/],
        [['--chain', 'arbitrum', '--amount', '0'], /--amount must be positive/],
        [['--chain', 'arbitrum', '--amount', '-3'], /--amount -3 is not a positive decimal/],
        [['--chain', 'arbitrum', '--token', '0x000000000000000000000000000000000000dEaD'], /has no decimals\(\) on arbitrum: no ERC-20 at that address/],
        [['--chain', 'arbitrum', '--amount', '1.1234567'], /--amount 1\.1234567 has more decimals than USDC \(6\)/],
      ];
      for (const [extra, message] of cases) {
        const r = await cli([...base, ...extra], keys);
        assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
      const { [TRADER_KEY_ENV]: _dropped, ...noTrader } = keys;
      const r = await cli([...base, '--chain', 'arbitrum'], noTrader);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`SECRET_MISSING: .*${TRADER_KEY_ENV}`));
    });

    it('locks through the CLI; positions shows the collateral once the relayer delivered it; status counts it', async function () {
      const trader = m.accounts.traders[0]?.address ?? '';
      const usdc = m.chains.arbitrum?.contracts.usdc ?? '';
      const lock = await cli(['lock', '-c', configFile, '--chain', 'arbitrum', '--token', usdc, '--amount', '2500', '--position', '77'], keys);
      assert.equal(lock.code, 0, lock.stdout + lock.stderr);
      assert.match(lock.stdout, /locked 2500 USDC on arbitrum for position 77 on base/);
      const lockId = /lockId\s+(0x[0-9a-f]{64})/.exec(lock.stdout)?.[1];
      assert.ok(lockId !== undefined, lock.stdout);
      assert.match(lock.stdout, /nonce\s+\d+/);
      assert.match(lock.stdout, /tx\s+0x[0-9a-f]{64}/);
      assert.match(lock.stdout, /^ {2}LayerZero guid\s+0x[0-9a-f]{64}$/m, 'the arbitrum route is LayerZero: its id is named so');
      assert.ok(!lock.stdout.includes(keys[TRADER_KEY_ENV] ?? 'never'), 'the key is never printed');

      const before = await cli(['positions', '-c', configFile, '--trader', trader], keys);
      assert.equal(before.code, 0, before.stderr);
      assert.match(before.stdout, /no positions for/);

      // Deliver with an in-process relayer writing the config's store file, as the daemon would.
      const config = parseConfig(devnetRelayerConfig(m, { sqlite: join(dir, 'relayer.sqlite'), logLevel: 'silent' }));
      if (!('sqlite' in config.store)) throw new Error('a SQLite store is expected');
      const store = SqliteStore.open(config.store.sqlite);
      const relayer = Relayer.create({
        config, store, relayerKey: new Wallet(m.accounts.relayer.privateKey), dvnSigner: new Wallet(m.accounts.dvnSigner.privateKey),
        dvnSigners: { second: new Wallet(m.accounts.secondDvnSigner.privateKey) },
      });
      // Not started: the test drives the stages itself, one tick() at a time.
      try {
        const baseCfg = config.chains.base;
        if (baseCfg?.engine === undefined) throw new Error('no engine');
        const engine = new Interface(ourArtifact('IsolatedMarginEngine').abi);
        const base = new ChainClient('base', baseCfg);
        const processed = async () =>
          engine.decodeFunctionResult('processed', await base.call(baseCfg.engine as string, engine.encodeFunctionData('processed', [lockId])))[0] as boolean;
        const deadline = Date.now() + 60_000;
        while (!(await processed()) || (await store.list({ status: 'delivered' })).length === 0) {
          if (Date.now() > deadline) throw new Error(`not delivered in time: ${JSON.stringify(await store.countsByRoute())}`);
          await relayer.tick();
          await sleep(200);
        }

        const after = await cli(['positions', '-c', configFile, '--trader', trader], keys);
        assert.equal(after.code, 0, after.stderr);
        const row = after.stdout.split('\n').find((l) => /^77\s/.test(l));
        assert.ok(row !== undefined, after.stdout);
        assert.match(row, /^77\s+arbitrum\s+USDC \(0x[0-9a-fA-F]{40}\)\s+2500\.0\s+1\s+—\s+—\s+—\s+—\s+—$/);
        assert.match(after.stdout, /^engine on base: bad debt ETH-USD 0\.00 USD; profit owed to 0x[0-9a-fA-F]{40}: 0\.0$/m);

        const json = await cli(['positions', '-c', configFile, '--trader', trader, '--json'], keys);
        const parsed = JSON.parse(json.stdout) as { positions: { positionId: string; amount: string; credits: number }[] };
        const p = parsed.positions.find((x) => x.positionId === '77');
        assert.deepEqual({ amount: p?.amount, credits: p?.credits }, { amount: (2500n * 10n ** 6n).toString(), credits: 1 });
        // Without --trader: the trader key's address (the key that locked).
        const byKey = await cli(['positions', '-c', configFile], keys);
        assert.equal(byKey.code, 0, byKey.stderr);
        assert.ok(byKey.stdout.split('\n').some((l) => /^77\s+arbitrum/.test(l)), byKey.stdout);
        const nobody = await cli(['positions', '-c', configFile], { ...keys, [TRADER_KEY_ENV]: '' });
        assert.equal(nobody.code, 2);
        assert.match(nobody.stderr, /whose positions\? give --trader ADDRESS, or set ISORELAY_TRADER_KEY/);

        // The store is still open by the relayer: status reads it read-only alongside.
        const status = await cli(['status', '-c', configFile], keys);
        assert.equal(status.code, 0, status.stderr);
        for (const s of MESSAGE_STATUSES) assert.match(status.stdout, new RegExp(`\\b${s}\\b`), `column ${s}`);
        assert.match(status.stdout, /^arbitrum-base\s+(\d+\s+){4}1\s+(0\s+){5}1\s+-$/m);
        assert.match(status.stdout, /^optimism-base\s+(0\s+){10}0\s+-$/m);
        assert.match(status.stdout, /^base-arbitrum\s+(0\s+){10}0\s+-$/m);
        assert.match(status.stdout, /^base\s+8453\s+\d+\s+\d+\s+ok$/m);
        assert.match(status.stdout, /^base\s+no\s+ETH-USD 0\.00 USD$/m, 'the engine: not paused, no bad debt');

        const statusJson = await cli(['status', '-c', configFile, '--json'], keys);
        const report = JSON.parse(statusJson.stdout) as { routes: { route: string; counts: Record<string, number> }[]; chains: { chain: string; reachable: boolean; head: string }[] };
        assert.deepEqual(report.routes.map((r) => r.route).sort(), ['arbitrum-base', 'base-arbitrum', 'base-optimism', 'optimism-base'], 'credit and settle routes');
        assert.equal(report.routes.find((r) => r.route === 'arbitrum-base')?.counts.delivered, 1);
        assert.equal(report.chains.length, 3);
        assert.ok(report.chains.every((c) => c.reachable && /^\d+$/.test(c.head)));
      } finally {
        await relayer.stop();
        await store.close();
      }
    });

    it('status prints an unreachable chain instead of failing', async function () {
      const port = await closedPort();
      const file = writeConfig('status-down.yaml', (raw) => {
        const op = raw.chains.optimism;
        if (op === undefined) throw new Error('no optimism chain');
        op.rpcUrls = [`http://127.0.0.1:${port}`];
      });
      const r = await cli(['status', '-c', file], keys);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^optimism\s+10\s+-\s+-\s+unreachable: RPC_UNREACHABLE: .*127\.0\.0\.1:\d+ is unreachable/m);
      assert.match(r.stdout, /^arbitrum\s+42161\s+\d+\s+\d+\s+ok$/m);
    });
  });
});
