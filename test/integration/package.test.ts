// The package as it ships: `npm pack` of a copy of the repository (its prepare script builds dist/),
// unpacked as node_modules/isorelay of an empty project, then imported from plain Node, type-checked
// against, and run as the `isorelay` command with and without a config. No chains needed.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { stringify } from 'yaml';
import { closedPort, REPO, runProgram as run, type CliResult as Run } from '../setup/cli.js';

/** Not copied for packing: installed or generated things, and local state. */
const NOT_COPIED = new Set(['node_modules', '.git', 'dist', '.devnet', 'scratch', 'tmp', 'coverage']);

const addr = (n: number): string => `0x${n.toString(16).padStart(40, '0')}`;
const lz = (eid: number) => ({ eid, endpoint: addr(1), receiveUln302: addr(2), sendUln302: addr(3), dvn: addr(4) });

/** A valid two-chain config whose RPCs are `rpcUrl` and whose store is a SQLite file that does not exist. */
function configYaml(rpcUrl: string, sqlite: string): string {
  return stringify({
    chains: {
      arbitrum: { chainId: 42161, rpcUrls: [rpcUrl], verifyQuorum: 1, finality: { tag: 'finalized' }, layerzero: lz(30110), vault: addr(10) },
      base: { chainId: 8453, rpcUrls: [rpcUrl], finality: { confirmations: 3 }, layerzero: lz(30184), engine: addr(11) },
    },
    routes: [{ name: 'arbitrum-base', source: 'arbitrum', destination: 'base', transport: 'layerzero' }],
    keys: { relayer: { env: 'ISORELAY_RELAYER_KEY' }, dvnSigner: { env: 'ISORELAY_DVN_SIGNER_KEY' } },
    store: { sqlite },
  });
}

/** The bare package names a module reaches through static imports (not `import()`), following relative ones. */
function staticPackages(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    // tsc writes `import … from '…';`, `import '…';` and `export … from '…';` at a line's start
    // (type-only ones erased); `import(…)` does not match.
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s+(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"];?\s*$/gm)) {
      if (spec === undefined || spec.startsWith('node:')) continue;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string));
    }
  };
  visit(entry);
  return packages;
}

describe('the isorelay package (npm pack, installed, plain Node)', function () {
  let dir: string;
  /** node_modules/isorelay of the consuming project. */
  let installed: string;
  let app: string;
  let bin: string;
  let version: string;
  let configFile: string;

  const isorelay = (args: string[], env: Record<string, string> = {}): Promise<Run> => run(process.execPath, [bin, ...args], app, env);

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'isorelay-package-'));
    const src = join(dir, 'src');
    cpSync(REPO, src, {
      recursive: true,
      filter: (from) => {
        const rel = relative(REPO, from);
        return !NOT_COPIED.has(rel.split(/[\\/]/)[0] as string) && !/\.sqlite(-wal|-shm)?$/.test(rel);
      },
    });
    symlinkSync(join(REPO, 'node_modules'), join(src, 'node_modules'), 'dir');
    const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], src, { npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' });
    assert.equal(packed.code, 0, packed.stderr);
    const [pack] = JSON.parse(packed.stdout) as [{ filename: string; version: string }];
    version = pack.version;

    app = join(dir, 'app');
    installed = join(app, 'node_modules', 'isorelay');
    mkdirSync(installed, { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const untar = await run('tar', ['-xzf', join(dir, pack.filename), '-C', installed, '--strip-components=1'], dir);
    assert.equal(untar.code, 0, untar.stderr);
    // Its dependencies, as an install would put them beside it.
    symlinkSync(join(REPO, 'node_modules'), join(installed, 'node_modules'), 'dir');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { bin: { isorelay: string } };
    bin = join(installed, manifest.bin.isorelay);
    configFile = join(dir, 'relayer.yaml');
    writeFileSync(configFile, configYaml(`http://127.0.0.1:${await closedPort()}`, join(dir, 'none.sqlite')));
  });

  after(function () {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  describe('contents', function () {
    it('holds the compiled library with declarations, the command and the ABIs, not the tests', function () {
      for (const f of ['dist/relayer/index.js', 'dist/relayer/index.d.ts', 'dist/relayer/cli/main.js', 'bin/isorelay.js', 'contracts-abi/IsolatedMarginEngine.json', 'config/example.yaml'])
        assert.ok(existsSync(join(installed, f)), `${f} is in the package`);
      for (const f of ['test', 'bench', 'contracts', 'contracts-abi/RogueSender.json', 'contracts-abi/CodecHarness.json'])
        assert.ok(!existsSync(join(installed, f)), `${f} is not in the package`);
    });

    it("skips its build where the sources are not there yet (the image installs dependencies before copying them)", async function () {
      const bare = join(dir, 'bare');
      mkdirSync(bare);
      cpSync(join(REPO, 'package.json'), join(bare, 'package.json'));
      const r = await run('npm', ['run', 'prepare'], bare, { npm_config_update_notifier: 'false' });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.ok(!existsSync(join(bare, 'dist')));
    });
  });

  describe('as a library', function () {
    it("is imported from plain Node: decodes a message of the test vectors, loads a config and refuses a bad one", async function () {
      const vector = (JSON.parse(readFileSync(join(REPO, 'test/vectors/messages.json'), 'utf8')) as { valid: { encoded: string; messageId: string; fields: Record<string, string> }[] }).valid[0];
      assert.ok(vector !== undefined);
      const script = `
        import { decodeMessage, messageId, loadConfig, parseConfig, isIsorelayError, ErrorCode } from 'isorelay';
        const m = decodeMessage(${JSON.stringify(vector.encoded)});
        const config = loadConfig(${JSON.stringify(configFile)});
        let invalid = null;
        try { parseConfig({ chains: {} }); } catch (e) { invalid = isIsorelayError(e, ErrorCode.CONFIG_INVALID); }
        console.log(JSON.stringify({
          resolved: import.meta.resolve('isorelay'),
          kind: m.kind, amount: m.amount.toString(), trader: m.trader, id: messageId(m.originChainId, m.origin, m.nonce),
          routes: config.routes.map((r) => r.name), frozen: Object.isFrozen(config), invalid,
        }));`;
      const r = await run(process.execPath, ['--input-type=module', '-e', script], app);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.equal(out.resolved, `file://${join(installed, 'dist/relayer/index.js')}`);
      assert.deepEqual(out, {
        resolved: out.resolved,
        kind: Number(vector.fields.kind), amount: vector.fields.amount, trader: vector.fields.trader, id: vector.messageId,
        routes: ['arbitrum-base'], frozen: true, invalid: true,
      });
    });

    it('gives TypeScript its declarations through the exports map (amounts are bigint, not any)', async function () {
      writeFileSync(join(app, 'consumer.ts'), [
        "import { decodeMessage, parseConfig, type Config, type MarginMessage } from 'isorelay';",
        'export const parse: (raw: unknown, source?: string) => Config = parseConfig;',
        "const m: MarginMessage = decodeMessage('0x');",
        'export const amount: bigint = m.amount;',
        '// @ts-expect-error an amount is a bigint',
        'export const wrong: number = m.amount;',
      ].join('\n'));
      writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: [] },
        files: ['consumer.ts'],
      }));
      const r = await run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', app], app);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    });
  });

  describe('as a command', function () {
    it('answers --version with the package version', async function () {
      const r = await isorelay(['--version']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), version);
      assert.match(readFileSync(bin, 'utf8'), /^#!\/usr\/bin\/env node\n/);
    });

    it('loads nothing but commander before a command runs, so that --version and --help start fast', function () {
      assert.ok(staticPackages(join(installed, 'dist/relayer/index.js')).has('ethers'), 'the library itself loads ethers: the scan follows imports and re-exports');
      assert.deepEqual([...staticPackages(join(installed, 'dist/relayer/cli/main.js'))], ['commander']);
    });

    it('stops every command that reads a config with a usage error naming -c and ISORELAY_CONFIG when neither is given', async function () {
      const trader = addr(0x70997970);
      const commands = [
        ['start'], ['status'], ['doctor'], ['doctor', '--json'], ['positions', '--trader', trader], ['prices', 'ETH-USD'],
        ['lock', '--chain', 'arbitrum', '--token', addr(5), '--amount', '1', '--position', '1'], ['attester', '--key-env', 'K'],
        ['held', 'list'], ['held', 'release', '0x01'], ['held', 'reject', '0x01'], ['route', 'halted'], ['route', 'resume', 'arbitrum-base'],
        ['message', '0x01'], ['retry', '0x01'], ['deny', '0x01', '--reason', 'x'], ['send-queued'], ['send-queued', '--id', '1'],
        ['option', 'quote', '1', '--market', 'ETH-USD', '--expiry', '1h', '--leg', 'long:call:3000:1'],
        ['option', 'open', '1', '--market', 'ETH-USD', '--expiry', '1h', '--leg', 'long:call:3000:1'],
      ];
      const results = await Promise.all(commands.map((args) => isorelay(args)));
      assert.equal(results.length, commands.length);
      results.forEach((r, i) => {
        const name = (commands[i] as string[]).join(' ');
        assert.equal(r.code, 2, `${name}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /^USAGE: no config file: pass -c <file> or set ISORELAY_CONFIG/, name);
      });
    });

    it('reads the config ISORELAY_CONFIG names', async function () {
      const r = await isorelay(['status'], { ISORELAY_CONFIG: configFile });
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`no store yet at ${join(dir, 'none.sqlite')}`), 'status read the store path from that config');
    });

    it('prefers -c to ISORELAY_CONFIG', async function () {
      const r = await isorelay(['status', '-c', configFile], { ISORELAY_CONFIG: join(dir, 'missing.yaml') });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no store yet at/);
      assert.doesNotMatch(r.stderr, /CONFIG_NOT_FOUND/);
    });

    it('names the ISORELAY_CONFIG file when it cannot be read', async function () {
      const missing = join(dir, 'missing.yaml');
      const r = await isorelay(['doctor'], { ISORELAY_CONFIG: missing });
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`^CONFIG_NOT_FOUND: cannot read config file ${missing}`));
    });

    it('prints the doctor report as JSON with --json and still exits 1 on a failed check', async function () {
      const r = await isorelay(['doctor', '--json'], { ISORELAY_CONFIG: configFile });
      assert.equal(r.code, 1, r.stderr);
      const report = JSON.parse(r.stdout) as { ok: boolean; checks: { group: string; name: string; ok: boolean; severity: string; detail: string }[] };
      assert.equal(report.ok, false);
      assert.ok(report.checks.length > 0);
      for (const c of report.checks) assert.deepEqual(Object.keys(c).sort(), ['detail', 'group', 'name', 'ok', 'severity']);
      const rpc = report.checks.filter((c) => /^RPC .* reachable$/.test(c.name));
      assert.deepEqual(rpc.map((c) => [c.group, c.severity]), [['arbitrum', 'fail'], ['base', 'fail']]);
      assert.ok(report.checks.some((c) => c.group === 'keys' && c.name === 'relayer key' && c.severity === 'fail'));
    });
  });
});
