// Config and secrets (relayer/config): a config is checked before it is trusted (RELIABILITY.md
// rule 12), every error names the path at fault, and keys never reach an error.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encryptKeystoreJsonSync, Wallet } from 'ethers';
import { loadConfig, parseConfig } from '../../relayer/config/load.js';
import type { RawConfig } from '../../relayer/config/schema.js';
import { assertKeysSeparated, loadWallet } from '../../relayer/config/secrets.js';
import { startDaemon } from '../../relayer/app/daemon.js';
import { pino } from 'pino';
import { ErrorCode, IsorelayError } from '../../relayer/errors/base.js';

const addr = (n: number): string => '0x' + n.toString(16).padStart(40, '0');
// A well-known throwaway key (anvil's account 0): public knowledge, never used for value.
const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const KEY_ADDRESS = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';

const lz = (eid: number) => ({ eid, endpoint: addr(1), receiveUln302: addr(2), sendUln302: addr(3), dvn: addr(4) });

function validRaw(): RawConfig {
  return {
    chains: {
      arbitrum: {
        chainId: 42161, rpcUrls: ['https://arb.example/rpc'], providers: { alpha: ['https://arb.example/rpc'], beta: ['http://arb-node.example:8547'] },
        finality: { tag: 'finalized' }, layerzero: lz(30110), vault: addr(10),
      },
      base: { chainId: 8453, rpcUrls: ['https://base.example/rpc', 'http://base2.example:8545'], finality: { confirmations: 3 }, layerzero: lz(30184), engine: addr(11) },
    },
    routes: [{ name: 'arbitrum-base', source: 'arbitrum', destination: 'base', transport: 'layerzero' }],
    keys: { relayer: { env: 'ISORELAY_RELAYER_KEY' }, dvnSigner: { keystore: '/keys/dvn.json', passwordEnv: 'DVN_PASSWORD' } },
    store: { sqlite: 'data/isorelay.sqlite' },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a bad config is, by definition, not a RawConfig
type Json = any;

/** A valid config with one change; the change sees the config as plain mutable JSON. */
function variant(change: (raw: Json) => void): unknown {
  const raw: Json = structuredClone(validRaw());
  change(raw);
  return raw;
}

function configError(raw: unknown): IsorelayError {
  try {
    parseConfig(raw, 'test.yaml');
  } catch (e) {
    assert.ok(e instanceof IsorelayError, `not an IsorelayError: ${String(e)}`);
    assert.equal(e.code, ErrorCode.CONFIG_INVALID);
    return e;
  }
  assert.fail('the config was accepted');
}

/** The error names `path` as the place of a problem (`path: message`, one per line). */
function assertNamesPath(e: IsorelayError, pathText: string, also?: RegExp): void {
  const line = e.message.split('\n').find((l) => l.trim().startsWith(`${pathText}:`));
  assert.ok(line !== undefined, `no problem at ${pathText} in:\n${e.message}`);
  if (also !== undefined) assert.match(line, also);
}

describe('config', function () {
  describe('parseConfig', function () {
    it('parses a valid config, with defaults and checksummed addresses', function () {
      const cfg = parseConfig(validRaw());
      assert.equal(cfg.chains.base?.chainId, 8453);
      assert.deepEqual(cfg.chains.arbitrum?.finality, { tag: 'finalized' });
      assert.equal(cfg.chains.base?.rpcTimeoutMs, 10_000);
      assert.equal(cfg.chains.base?.maxFeeMultiplier, 4);
      assert.equal(cfg.chains.arbitrum?.vault, '0x000000000000000000000000000000000000000A');
      assert.equal(cfg.routes[0]?.paused, false);
      assert.equal(cfg.pipeline.maxAttempts, 12);
    });

    it('freezes the parsed config, deeply', function () {
      const cfg = parseConfig(validRaw());
      assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.chains) && Object.isFrozen(cfg.chains.base?.rpcUrls) && Object.isFrozen(cfg.routes[0]));
      assert.throws(() => {
        (cfg.chains.base as { chainId: number }).chainId = 1;
      }, TypeError);
      assert.throws(() => (cfg.chains.base?.rpcUrls as string[]).push('http://evil'), TypeError);
    });

    it('names chains.base.rpcUrls when it is missing', function () {
      assertNamesPath(configError(variant((r) => delete r.chains.base.rpcUrls)), 'chains.base.rpcUrls');
    });

    it('names chains.base.rpcUrls.0 when it is not an http(s) URL', function () {
      assertNamesPath(configError(variant((r) => (r.chains.base.rpcUrls = ['wss://base.example']))), 'chains.base.rpcUrls.0', /must be an http\(s\) URL/);
      assertNamesPath(configError(variant((r) => (r.chains.base.rpcUrls = ['http://']))), 'chains.base.rpcUrls.0', /must be an http\(s\) URL/);
    });

    it('names chains.base.rpcUrls when it is empty', function () {
      assertNamesPath(configError(variant((r) => (r.chains.base.rpcUrls = []))), 'chains.base.rpcUrls', /at least one RPC URL/);
    });

    it('requires two independent providers on a source chain unless verifyQuorum: 1 is written', function () {
      const one = configError(variant((r) => delete r.chains.arbitrum.providers));
      assertNamesPath(one, 'chains.arbitrum.providers', /verified by 2 independent providers, but 1 is configured.*verifyQuorum: 1/);
      const explicit = parseConfig(variant((r) => {
        delete r.chains.arbitrum.providers;
        r.chains.arbitrum.verifyQuorum = 1;
      }));
      assert.equal(explicit.chains.arbitrum?.verifyQuorum, 1);
      assertNamesPath(configError(variant((r) => (r.chains.arbitrum.verifyQuorum = 3))), 'chains.arbitrum.verifyQuorum', /verified by 3 independent providers, but 2 are configured/);
      assertNamesPath(
        configError(variant((r) => (r.chains.arbitrum.providers = { alpha: ['https://arb.example/rpc'], beta: ['https://arb.example/rpc/'] }))),
        'chains.arbitrum.providers.beta', /arb\.example is also provider "alpha"/,
      );
      // base is only a destination here: nothing from it is verified.
      assert.equal(parseConfig(validRaw()).chains.base?.providers, undefined);
    });

    it('defaults keeper.sendQueued (on, a grace of 5 s) and refuses a negative grace', function () {
      const keeper = (sendQueued?: unknown) => (r: Json) => {
        r.keeper = { chain: 'base', ...(sendQueued === undefined ? {} : { sendQueued }) };
      };
      assert.deepEqual(parseConfig(variant(keeper())).keeper?.sendQueued, { enabled: true, graceSeconds: 5 });
      assert.deepEqual(parseConfig(variant(keeper({ enabled: false }))).keeper?.sendQueued, { enabled: false, graceSeconds: 5 });
      assertNamesPath(configError(variant(keeper({ graceSeconds: -1 }))), 'keeper.sendQueued.graceSeconds');
      assertNamesPath(configError(variant(keeper({ graceSecond: 1 }))), 'keeper.sendQueued');
    });

    it('defaults keeper.volatility (λ 0.94 as 1e18, a sample a minute, 5 %, a minute) and refuses a λ outside (0, 1)', function () {
      const keeper = (volatility?: unknown) => (r: Json) => {
        r.keeper = { chain: 'base', ...(volatility === undefined ? {} : { volatility }) };
      };
      assert.deepEqual(parseConfig(variant(keeper())).keeper?.volatility, { enabled: true, lambda: 94n * 10n ** 16n, sampleSeconds: 60, minChangeBps: 500, minIntervalSeconds: 60 });
      assert.equal(parseConfig(variant(keeper({ lambda: 0.97 }))).keeper?.volatility.lambda, 97n * 10n ** 16n);
      assert.equal(parseConfig(variant(keeper({ lambda: '0.999999999999999999' }))).keeper?.volatility.lambda, 10n ** 18n - 1n);
      for (const lambda of [1, 0, 1.5, -0.5, 1e-7, 'x'])
        assertNamesPath(configError(variant(keeper({ lambda }))), 'keeper.volatility.lambda', /a decimal in \(0, 1\)/);
      assertNamesPath(configError(variant(keeper({ minChangeBps: 0 }))), 'keeper.volatility.minChangeBps');
    });

    it('names chains.base.chainId when it is a string', function () {
      assertNamesPath(configError(variant((r) => (r.chains.base.chainId = '8453'))), 'chains.base.chainId');
    });

    it('names routes.0.destination when a route names an unknown chain', function () {
      assertNamesPath(configError(variant((r) => (r.routes[0].destination = 'optimism'))), 'routes.0.destination', /unknown chain "optimism"/);
    });

    it('names chains.base.layerzero when a layerzero route uses a chain without a layerzero section', function () {
      assertNamesPath(configError(variant((r) => delete r.chains.base.layerzero)), 'chains.base.layerzero', /arbitrum-base/);
    });

    it('names both chains when two chains share a chain id', function () {
      const e = configError(variant((r) => (r.chains.base.chainId = 42161)));
      assertNamesPath(e, 'chains.base.chainId', /42161/);
      assertNamesPath(e, 'chains.arbitrum.chainId', /42161/);
    });

    it('names chains.base.engine when it is not an address', function () {
      assertNamesPath(configError(variant((r) => (r.chains.base.engine = '0x1234'))), 'chains.base.engine', /not an EVM address/);
    });

    it('refuses an unknown key and names it (strict objects)', function () {
      const e = configError(variant((r) => (r.chains.base.rpcUrl = 'https://typo.example')));
      assertNamesPath(e, 'chains.base', /rpcUrl/);
      const top = configError(variant((r) => (r.extra = true)));
      assertNamesPath(top, '(root)', /extra/);
    });

    it('refuses a finality with both confirmations and tag', function () {
      assertNamesPath(configError(variant((r) => (r.chains.base.finality = { confirmations: 2, tag: 'finalized' }))), 'chains.base.finality');
    });

    it('lists every problem, not only the first', function () {
      const e = configError(variant((r) => {
        r.chains.base.chainId = 'x';
        r.chains.arbitrum.vault = 'nope';
      }));
      assertNamesPath(e, 'chains.base.chainId');
      assertNamesPath(e, 'chains.arbitrum.vault');
      assert.equal((e.details.problems as string[]).length, 2);
    });
  });

  describe('loadConfig', function () {
    let dir: string;
    before(function () {
      dir = mkdtempSync(path.join(tmpdir(), 'isorelay-config-'));
    });
    after(function () {
      rmSync(dir, { recursive: true, force: true });
    });

    it('loads a YAML file', function () {
      const file = path.join(dir, 'ok.yaml');
      writeFileSync(file, JSON.stringify(validRaw())); // JSON is YAML
      assert.equal(loadConfig(file).chains.arbitrum?.chainId, 42161);
    });

    it('gives CONFIG_NOT_FOUND for a missing file', function () {
      assert.throws(() => loadConfig(path.join(dir, 'missing.yaml')), (e: unknown) => e instanceof IsorelayError && e.code === ErrorCode.CONFIG_NOT_FOUND);
    });

    it('gives CONFIG_INVALID for invalid YAML', function () {
      const file = path.join(dir, 'bad.yaml');
      writeFileSync(file, 'chains:\n  base: [1, 2\n  other: : x\n');
      assert.throws(() => loadConfig(file), (e: unknown) => e instanceof IsorelayError && e.code === ErrorCode.CONFIG_INVALID && e.message.includes(file));
    });

    it('gives CONFIG_INVALID naming the path for a file that parses but is invalid', function () {
      const file = path.join(dir, 'invalid.yaml');
      writeFileSync(file, JSON.stringify(variant((r) => (r.chains.base.engine = 'nope'))));
      assert.throws(() => loadConfig(file), (e: unknown) => e instanceof IsorelayError && e.code === ErrorCode.CONFIG_INVALID && /chains\.base\.engine:/.test(e.message));
    });

    it('does not copy an RPC URL credential from a broken YAML line into the error', function () {
      const file = path.join(dir, 'leak.yaml');
      writeFileSync(file, 'chains:\n  base:\n    rpcUrls: [https://user:s3cretpass@rpc.example/v2/key123abc\n  x: : y\n');
      let err: unknown;
      try {
        loadConfig(file);
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof IsorelayError && err.code === ErrorCode.CONFIG_INVALID);
      for (const text of [err.message, err.describe(), JSON.stringify(err), String((err.cause as Error | undefined)?.message ?? '')]) {
        assert.ok(!text.includes('s3cretpass') && !text.includes('key123abc'), `leaked: ${text}`);
      }
    });
  });
});

describe('secrets: loadWallet', function () {
  it('loads a key from the environment', async function () {
    const w = await loadWallet('relayer', { env: 'K' }, { K: KEY });
    assert.equal(w.address, KEY_ADDRESS);
  });

  it('tolerates surrounding whitespace (a trailing newline from a secrets file)', async function () {
    const w = await loadWallet('relayer', { env: 'K' }, { K: `  ${KEY}\n` });
    assert.equal(w.address, KEY_ADDRESS);
  });

  it('refuses one key in two roles at start, naming the roles and never the key (KEY_ROLE_CONFLICT)', async function () {
    const raw = validRaw();
    raw.keys = { relayer: { env: 'GAS_KEY' }, dvnSigner: { env: 'DVN_KEY' } };
    raw.store = { sqlite: path.join(tmpdir(), `isorelay-never-opened-${process.pid}.sqlite`) };
    let err: unknown;
    try {
      await startDaemon({ config: parseConfig(raw), env: { GAS_KEY: KEY, DVN_KEY: KEY }, logger: pino({ level: 'silent' }) });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof IsorelayError, `must refuse: ${String(err)}`);
    assert.equal(err.code, ErrorCode.KEY_ROLE_CONFLICT);
    assert.match(err.message, /the relayer \(gas\) key and the DVN signer key are the same key \(0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\)/);
    assert.ok(!JSON.stringify({ m: err.message, g: err.guidance }).includes(KEY.slice(2, 30)), 'the key never appears');
    assert.throws(() => assertKeysSeparated([{ role: 'attester 1', address: KEY_ADDRESS }, { role: 'attester 2', address: KEY_ADDRESS.toLowerCase() }]), /attester 1 key and the attester 2 key/);
    assert.doesNotThrow(() => assertKeysSeparated([{ role: 'relayer (gas)', address: KEY_ADDRESS }, { role: 'DVN signer', address: addr(1) }]));
  });

  it('gives SECRET_MISSING naming the variable when it is unset or empty', async function () {
    for (const env of [{}, { ISORELAY_RELAYER_KEY: '' }]) {
      await assert.rejects(loadWallet('relayer', { env: 'ISORELAY_RELAYER_KEY' }, env), (e: unknown) => {
        assert.ok(e instanceof IsorelayError);
        assert.equal(e.code, ErrorCode.SECRET_MISSING);
        assert.match(e.message, /ISORELAY_RELAYER_KEY/);
        return true;
      });
    }
  });

  it('gives SECRET_MISSING for a malformed key without the key text anywhere in the error', async function () {
    // 63 hex digits: one short. Looks like a key, is one typo away from a real one.
    const malformed = '0x' + 'ab12cd34'.repeat(8).slice(0, 63);
    const distinctive = malformed.slice(10, 40);
    let err: unknown;
    try {
      await loadWallet('relayer', { env: 'K' }, { K: malformed });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof IsorelayError, 'must fail');
    assert.equal(err.code, ErrorCode.SECRET_MISSING);
    const texts: string[] = [];
    for (let e: unknown = err, depth = 0; e !== undefined && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
      texts.push(JSON.stringify(e), e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : '');
    }
    texts.push(err.describe(), JSON.stringify(err.details), err.guidance.join('\n'));
    for (const t of texts) assert.ok(!t.includes(distinctive) && !t.includes(malformed.slice(2)), `the key leaked into: ${t}`);
  });

  describe('keystore', function () {
    let dir: string;
    let keystore: string;
    before(function () {
      dir = mkdtempSync(path.join(tmpdir(), 'isorelay-keys-'));
      keystore = path.join(dir, 'relayer.json');
      // A cheap scrypt (N = 1024) keeps the round trip well under a second; the file says N.
      writeFileSync(keystore, encryptKeystoreJsonSync({ address: KEY_ADDRESS, privateKey: KEY }, 'correct horse', { scrypt: { N: 1 << 10 } }));
    });
    after(function () {
      rmSync(dir, { recursive: true, force: true });
    });

    it('decrypts a keystore with the password from the environment', async function () {
      this.timeout(5_000);
      const w = await loadWallet('relayer', { keystore, passwordEnv: 'PW' }, { PW: 'correct horse' });
      assert.ok(w instanceof Wallet);
      assert.equal(w.address, KEY_ADDRESS);
      assert.equal(w.privateKey, KEY);
    });

    it('gives SECRET_MISSING for a wrong password, a missing password and a missing file', async function () {
      this.timeout(5_000);
      const cases: [string, Record<string, string>, string][] = [
        ['wrong password', { PW: 'wrong' }, keystore],
        ['missing password', {}, keystore],
        ['missing file', { PW: 'correct horse' }, path.join(dir, 'nope.json')],
      ];
      for (const [name, env, file] of cases) {
        await assert.rejects(loadWallet('relayer', { keystore: file, passwordEnv: 'PW' }, env), (e: unknown) => {
          assert.ok(e instanceof IsorelayError, name);
          assert.equal(e.code, ErrorCode.SECRET_MISSING, name);
          assert.ok(!JSON.stringify(e).includes('correct horse') && !e.message.includes('correct horse'), name);
          return true;
        });
      }
    });
  });
});

describe('config addresses', () => {
  it('tells a bad checksum apart from a value that is not an address', async () => {
    const { address } = await import('../../relayer/config/schema.js');
    const ok = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    assert.equal(address.parse(ok.toLowerCase()), ok, 'all lower case carries no checksum: accepted, checksummed');
    const typo = '0x70997970C51812dc3A010C7d01b50e0d17Dc79C8';
    const bad = address.safeParse(typo);
    assert.equal(bad.success, false);
    assert.match(bad.error?.issues[0]?.message ?? '', /bad checksum/);
    assert.match(address.safeParse('0x1234').error?.issues[0]?.message ?? '', /not an EVM address/);
  });
});
