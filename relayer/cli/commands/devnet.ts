// `isorelay devnet [--demo]`: three anvil chains, the real LayerZero v2 stack and our contracts,
// the relayer running on them until Ctrl-C; with --demo, the scripted credit scenario; with
// --no-relayer, the chains and the guardian only, for relayers elsewhere (containers).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Wallet } from 'ethers';
import { startDaemon, untilSignal } from '../../app/daemon.js';
import { CONFIG_ENV, parseConfig } from '../../config/load.js';
import { logFormatFrom } from '../../config/logFormat.js';
import type { LogFormat } from '../../config/schema.js';
import { DEVNET_ROLES, devnetTokenVars } from '../../devnet/chains.js';
import type { DevnetPort } from '../../devnet/ports.js';
import { demoPassed, formatDemoTable, runDemo } from '../../devnet/demo.js';
import { startDevnet, type Devnet } from '../../devnet/network.js';
import { attesterKeyEnv, devnetRelayerConfig, DVN_SIGNER_KEY_ENV, instanceRelayerKeyEnv, RELAYER_KEY_ENV, SECOND_DVN_SIGNER_KEY_ENV } from '../../devnet/relayerConfig.js';
import { serveDevnetMarketMaker } from '../../devnet/marketMaker.js';
import { OPTIONS_DEMO_STEPS, runOptionsDemo } from '../../devnet/optionsDemo.js';
import { runTradingDemo } from '../../devnet/tradingDemo.js';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import type { RunningMarketMaker } from '../../options/marketMakerServer.js';
import { createLogger } from '../../ops/logger.js';
import { TRADER_KEY_ENV } from './lock.js';
import { QUOTE_URL_ENV } from './option.js';

export interface DevnetOptions {
  demo?: boolean;
  /** false with --no-relayer: no relayer in this process. */
  relayer: boolean;
  /** Where the files go: .devnet by default; with --demo a temporary directory (DEMO_DIR_PREFIX). */
  dir?: string;
  port: number;
  opsPort: number;
  host: string;
  advertiseHost?: string;
  guardianPort: number;
  instances: number;
  storeUrlEnv?: string;
  /** --log-format: over $ISORELAY_LOG_FORMAT; the devnet's config logs JSON. */
  logFormat?: LogFormat;
  /** The market maker's port on 127.0.0.1 (0: a free one; the demo always takes a free one). */
  quotePort: number;
  /** --demo: seconds until the iron condor expires (default 30). */
  demoExpiry: number;
}

/** Where `isorelay devnet` writes its files unless --dir says otherwise. */
export const DEFAULT_DEVNET_DIR = '.devnet';
/** The demo's own directory in the system's temporary directory (its chains take free ports and stop with it). */
export const DEMO_DIR_PREFIX = 'isorelay-demo-';

const say = (line: string) => process.stdout.write(`devnet: ${line}\n`);

export async function devnetCommand(opts: DevnetOptions): Promise<void> {
  if (opts.demo === true && !opts.relayer) throw new IsorelayError(ErrorCode.USAGE, '--demo needs the relayer: drop --no-relayer');
  if (!Number.isInteger(opts.instances) || opts.instances < 0 || opts.instances > 1 + DEVNET_ROLES.moreRelayers.length)
    throw new IsorelayError(ErrorCode.USAGE, `--instances ${opts.instances}: the devnet has gas keys for 0 to ${1 + DEVNET_ROLES.moreRelayers.length} relayer instances`);
  if (opts.demo !== true) {
    await runDevnet(opts, resolve(opts.dir ?? DEFAULT_DEVNET_DIR));
    return;
  }
  // The demo's chains take free ports and stop with it: its files must not stand in .devnet/ for a
  // devnet that is gone (a later `isorelay status` would read them), so they go to a directory of
  // their own, removed when the demo passes.
  const own = opts.dir === undefined;
  const dir = opts.dir === undefined ? mkdtempSync(join(tmpdir(), DEMO_DIR_PREFIX)) : resolve(opts.dir);
  let passed = false;
  try {
    passed = await runDevnet(opts, dir);
    if (!passed) process.exitCode = 1;
  } finally {
    if (own && passed) rmSync(dir, { recursive: true, force: true });
    else say(`the demo's files are in ${dir}; its chains stopped with it, so the manifest and relayer.yaml there name a devnet that is gone`);
  }
}

/** Runs the devnet until Ctrl-C, or the demo; false if the demo failed. */
async function runDevnet(opts: DevnetOptions, dir: string): Promise<boolean> {
  const started = Date.now();
  const logFormat = logFormatFrom(opts.logFormat, process.env, 'json'); // before the chains: a bad value fails at once
  const ports = opts.demo === true ? { basePort: undefined, opsPort: 0 } : { basePort: opts.port === 0 ? undefined : opts.port, opsPort: opts.opsPort };
  // This process's own listeners, checked free with the chains' before anything starts (the demo's are free ones).
  const alsoListens: DevnetPort[] = opts.demo === true ? [] : [
    ...(opts.relayer ? [{ port: ports.opsPort, what: "the relayer's ops server", flag: '--ops-port' }] : []),
    { port: opts.quotePort, what: 'the devnet market maker', flag: '--quote-port' },
  ];
  const devnet = await startDevnet({
    alsoListens,
    dir,
    ...(ports.basePort === undefined ? {} : { basePort: ports.basePort }),
    config: { opsPort: ports.opsPort, logLevel: opts.demo === true ? 'warn' : 'info', keeper: true },
    onProgress: say,
    host: opts.host,
    ...(opts.advertiseHost === undefined ? {} : { advertiseHost: opts.advertiseHost }),
    ...(opts.guardianPort === 0 ? {} : { guardianPort: opts.guardianPort }),
    ...(opts.instances === 0 ? {} : { instances: { count: opts.instances, opsHost: opts.host, ...(opts.storeUrlEnv === undefined ? {} : { storeUrlEnv: opts.storeUrlEnv }) } }),
    // A devnet that runs until Ctrl-C may run for days: its nodes' memory is kept in check (see
    // longRunning). The demo is short and keeps the default history and block time.
    longRunning: opts.demo !== true,
  });
  if (!opts.relayer) {
    await serveWithoutRelayer(devnet, dir, opts, started);
    return true;
  }
  const m = devnet.manifest;
  const sqlite = join(dir, 'relayer.sqlite');
  for (const suffix of ['', '-wal', '-shm', '.lock']) rmSync(sqlite + suffix, { force: true });
  let daemon;
  let maker: RunningMarketMaker | undefined;
  try {
    const config = parseConfig(devnetRelayerConfig(m, { sqlite, opsPort: ports.opsPort, logLevel: opts.demo === true ? 'warn' : 'info', keeper: true }), 'devnet config');
    maker = await serveDevnetMarketMaker(m, { port: opts.demo === true ? 0 : opts.quotePort, config });
    daemon = await startDaemon({
      config,
      logger: createLogger({ level: config.ops.logLevel, format: logFormat }),
      keys: {
        relayer: new Wallet(m.accounts.relayer.privateKey),
        dvnSigner: new Wallet(m.accounts.dvnSigner.privateKey),
        dvnSigners: { second: new Wallet(m.accounts.secondDvnSigner.privateKey) },
        attesters: m.accounts.attesters.slice(0, m.market.attesterThreshold).map((a) => new Wallet(a.privateKey)),
      },
    });
  } catch (e) {
    await maker?.close();
    await devnet.stop();
    throw e;
  }
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${Object.values(m.chains).map((c) => `${c.name} ${c.rpcUrl}`).join(', ')}`);
  say(`manifest ${join(dir, 'manifest.json')}, relayer config ${join(dir, 'relayer.yaml')}, ops ${daemon.ops.url}, market maker ${maker.url}/quote`);
  try {
    if (opts.demo === true) {
      say('demo: locking collateral on arbitrum and optimism, waiting for the credits on base');
      const rows = await runDemo(m, daemon.store);
      process.stdout.write(`\n${formatDemoTable(rows)}\n\n`);
      const credited = demoPassed(rows);
      say(credited ? `${rows.length} locks, each credited exactly once` : 'demo FAILED: not every lock was credited exactly once');
      if (!credited) return false;
      say('demo: trading on base, a price move, the keeper, settlement back to the sources');
      const steps = await runTradingDemo(m, daemon.store, say);
      if (!steps.every((s) => s.ok)) {
        say('demo FAILED: see the ✗ steps above');
        return false;
      }
      say('demo: options — an iron condor funded from arbitrum, quoted by the market maker, settled at expiry by the keeper, released to arbitrum');
      const condor = await runOptionsDemo(m, daemon.store, say, { quoteUrl: maker.url, expirySeconds: opts.demoExpiry });
      const ok = condor.length === OPTIONS_DEMO_STEPS && condor.every((s) => s.ok);
      say(ok
        ? 'demo passed: every lock credited once, exactly the breached position liquidated and seized on its source, the other closed and released, the iron condor settled at expiry and what was left released to arbitrum'
        : 'demo FAILED: see the ✗ steps above');
      return ok;
    }
    process.stdout.write(devnetKeyExports(m, 0, maker.url) + devnetSetupExports(m, join(dir, 'relayer.yaml')));
    say('relaying until Ctrl-C. In another shell, paste the exports above, then: npx isorelay status');
    await untilSignal();
    return true;
  } finally {
    await maker.close();
    await daemon.stop();
    await devnet.stop();
  }
}

/** --no-relayer: the chains and the guardian until Ctrl-C or SIGTERM; relayers elsewhere read the files in `dir`. */
async function serveWithoutRelayer(devnet: Devnet, dir: string, opts: DevnetOptions, started: number): Promise<void> {
  let maker: RunningMarketMaker | undefined;
  try {
    const m = devnet.manifest;
    maker = await serveDevnetMarketMaker(m, { port: opts.quotePort });
    const via = opts.advertiseHost === undefined ? '' : ` (as ${opts.advertiseHost} in the files)`;
    say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${Object.values(m.chains).map((c) => `${c.name} ${c.rpcUrl}`).join(', ')}, guardian ${devnet.guardian.url}${via}`);
    const instances = Array.from({ length: opts.instances }, (_, i) => join(dir, `relayer-${i + 1}.yaml`));
    say(`manifest ${join(dir, 'manifest.json')}, relayer configs ${[join(dir, 'relayer.yaml'), ...instances].join(', ')}`);
    process.stdout.write(devnetKeyExports(m, opts.instances, maker.url) + devnetSetupExports(m, join(dir, 'relayer.yaml')));
    say('no relayer in this process (--no-relayer): the chains run until Ctrl-C or SIGTERM');
    say(`${await untilSignal()}: stopping the chains`);
  } finally {
    await maker?.close();
    await devnet.stop();
  }
}

/**
 * Ready-to-paste `export VAR=…` lines for every key the devnet's configs and the other commands
 * read: the relayer's roles, the attesters the keeper signs with, a funded trader, and each
 * relayer instance's gas key. They are anvil's well-known test accounts, and say so.
 */
export function devnetKeyExports(m: Devnet['manifest'], instances: number, quoteUrl?: string): string {
  const key = (env: string, account: { address: string; privateKey: string } | undefined, role: string): string[] =>
    account === undefined ? [] : [`export ${env}=${account.privateKey}  # ${role}: ${account.address}`];
  const lines = [
    '',
    '# DEVNET TEST KEYS: anvil\'s publicly known development accounts, for this local devnet only.',
    '# Never use them, or send funds to them, on a real chain. Paste into the shell of the other commands:',
    ...key(RELAYER_KEY_ENV, m.accounts.relayer, 'relayer gas key, DVN admin'),
    ...key(DVN_SIGNER_KEY_ENV, m.accounts.dvnSigner, 'DVN signer'),
    ...key(SECOND_DVN_SIGNER_KEY_ENV, m.accounts.secondDvnSigner, 'second DVN signer'),
    ...m.accounts.attesters.slice(0, m.market.attesterThreshold).flatMap((a, i) => key(attesterKeyEnv(i), a, `price attester ${i + 1} of ${m.market.attesterThreshold}`)),
    ...key(TRADER_KEY_ENV, m.accounts.traders[0], 'trader for isorelay lock, holds USDC and WETH on the sources'),
    ...Array.from({ length: instances }, (_, i) =>
      key(instanceRelayerKeyEnv(i + 1), i === 0 ? m.accounts.relayer : m.accounts.moreRelayers?.[i - 1], `gas key of relayer instance ${i + 1}`)).flat(),
    // Not a key: where `isorelay option` asks for quotes. Production quotes come from a real market maker's RFQ endpoint.
    ...(quoteUrl === undefined ? [] : [`export ${QUOTE_URL_ENV}=${quoteUrl}  # the devnet market maker (isorelay option quote|open), quoter ${m.accounts.marketMaker.address}`]),
    '',
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Ready-to-paste `export VAR=…` lines for what the other commands need besides keys: the relayer
 * config (ISORELAY_CONFIG, so that `-c` can be left out) and each chain's token addresses, named
 * as docs/options.md's session uses them (`isorelay lock --token $ARB_USDC`).
 */
export function devnetSetupExports(m: Devnet['manifest'], configFile: string): string {
  const tokens = Object.values(m.chains).flatMap((c) =>
    devnetTokenVars(c.name).flatMap(({ symbol, name, contract, what }) => {
      const address = c.contracts[contract];
      return address === undefined ? [] : [`export ${name}=${address}  # ${symbol} on ${c.name}, ${what}`];
    }));
  const lines = [
    '# Not keys: the devnet\'s relayer config (isorelay status, doctor, lock … without -c) and its tokens (isorelay lock --token $ARB_USDC):',
    `export ${CONFIG_ENV}=${configFile}`,
    ...tokens,
    '',
  ];
  return `${lines.join('\n')}\n`;
}
