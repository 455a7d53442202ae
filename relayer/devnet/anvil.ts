// Local chains for the devnet and the tests: starts and stops anvil nodes from the
// @foundry-rs/anvil npm package (nothing installed globally), and derives the standard
// devnet accounts from anvil's test mnemonic.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HDNodeWallet, Mnemonic, type JsonRpcProvider } from 'ethers';
import { makeProvider } from '../chains/provider.js';
import { ErrorCode, IsorelayError } from '../errors/base.js';

/** The mnemonic anvil uses when none is given; its accounts are public knowledge. */
export const ANVIL_TEST_MNEMONIC = 'test test test test test test test test test test test junk';

export interface DevnetAccount {
  readonly address: string;
  readonly privateKey: string;
}

/** The first `count` accounts of `mnemonic` on path m/44'/60'/0'/0/i, as anvil funds them. */
export function deriveDevnetAccounts(mnemonic: string, count: number): readonly DevnetAccount[] {
  // Derive the parent once: each fromPhrase would rerun the 2048-round PBKDF2.
  const parent = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(mnemonic), "m/44'/60'/0'/0");
  return Object.freeze(
    Array.from({ length: count }, (_, i) => {
      const child = parent.deriveChild(i);
      return Object.freeze({ address: child.address, privateKey: child.privateKey });
    }),
  );
}

/**
 * Anvil's ten funded accounts for the default mnemonic, and five more that anvil does not fund:
 * 10 and 14 are signing-only roles, 11 to 13 are the gas keys of more relayer instances (funded by
 * the deployment when asked for).
 */
export const DEVNET_ACCOUNTS: readonly DevnetAccount[] = deriveDevnetAccounts(ANVIL_TEST_MNEMONIC, 15);

export interface StartAnvilOptions {
  chainId: number;
  /** 0 or undefined: pick a free port. */
  port?: number;
  /** The address to listen on; 127.0.0.1 by default (0.0.0.0: every interface, e.g. in a container). */
  host?: string;
  /** Interval mining; undefined: automine (a block per transaction). */
  blockTimeSeconds?: number;
  /** With a block time: also mine each transaction at once (anvil --mixed-mining). */
  mixedMining?: boolean;
  mnemonic?: string;
  /** Append anvil's stdout and stderr to this file instead of running it silent. */
  logFile?: string;
  /**
   * How many recent blocks' states the node keeps in memory (default STATE_HISTORY_BLOCKS).
   * 0 keeps none: a read at a block a new one has overtaken fails with BlockOutOfRangeError, and
   * so do `anvil_reorg` and reads at old blocks (evm_snapshot / evm_revert still work). Given
   * explicitly with mixed mining at a block time under 3 s, the node's idle blocks are mined by
   * calls from this process (see idleBlocksFromHere): anvil 1.7.1 would keep 1,500 states instead.
   */
  keepStates?: number;
  /** Blocks whose transactions (receipts, traces) stay in memory; undefined: all of them. */
  keepTransactionBlocks?: number;
}

export interface AnvilNode {
  readonly url: string;
  readonly chainId: number;
  readonly port: number;
  /** The anvil process (for measuring its memory). */
  readonly pid: number;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 15_000;
const STARTUP_POLL_MS = 50;
const STOP_GRACE_MS = 3_000;
const STDERR_TAIL_LINES = 20;

// Children still running. A process-wide registry is the one exception to "no global state":
// an 'exit' handler is process-wide by nature, and an orphaned anvil keeps its port forever.
const liveChildren = new Set<ChildProcess>();
let exitHandlerRegistered = false;

function registerExitHandler(): void {
  if (exitHandlerRegistered) return;
  exitHandlerRegistered = true;
  // 'exit' handlers must be synchronous: a signal is all we can send.
  process.on('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
  });
}

/** Path of the anvil binary: the platform package first, then node_modules/.bin/anvil. */
export function resolveAnvilBinary(): string {
  const require = createRequire(import.meta.url);
  const platform = process.platform;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const exe = platform === 'win32' ? 'anvil.exe' : 'anvil';
  const candidates: string[] = [];
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${platform}-${arch}/package.json`);
    candidates.push(path.join(path.dirname(pkg), 'bin', exe));
  } catch {
    // not installed for this platform; try the wrapper below
  }
  try {
    const wrapper = require.resolve('@foundry-rs/anvil/package.json');
    // <root>/node_modules/@foundry-rs/anvil/package.json → <root>/node_modules/.bin/anvil
    candidates.push(path.join(path.dirname(wrapper), '..', '..', '.bin', 'anvil'));
  } catch {
    // fall through to the working directory
  }
  candidates.push(path.join(process.cwd(), 'node_modules', '.bin', 'anvil'));
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) {
    throw new Error(
      `anvil binary not found (looked at ${candidates.join(', ')}); run npm install so that @foundry-rs/anvil installs its platform package`,
    );
  }
  return found;
}

async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

async function readChainId(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1_000),
    });
    // Shape checked on the next line: only a string result counts as an answer.
    const body = (await response.json()) as { result?: unknown };
    return typeof body.result === 'string' ? Number(BigInt(body.result)) : undefined;
  } catch {
    return undefined; // not listening yet
  }
}

/** How many recent blocks' states a test node keeps (in memory only): enough for `anvil_reorg`. */
export const STATE_HISTORY_BLOCKS = 128;

/**
 * anvil 1.7.1 sets its in-memory state limit to 1,500 when its block time is 2 s or less (whole
 * seconds, so anything under 3 s), even with `--prune-history N` (storage.rs
 * update_interval_mine_block_time; fixed after 1.7.1 by foundry-rs/foundry#14307): the node grows
 * by the size of its state every block, ~75 KB for the devnet's, for 1,500 blocks. A node asked for
 * a few states therefore runs on automine (each transaction mined at once, as --mixed-mining does)
 * and its idle blocks are mined by evm_mine calls from this process.
 */
function idleBlocksFromHere(opts: StartAnvilOptions): boolean {
  return opts.keepStates !== undefined && opts.keepStates > 0 && opts.mixedMining === true && opts.blockTimeSeconds !== undefined && opts.blockTimeSeconds < 3;
}

/** Mines a block every `everyMs` (each call awaited, so slow answers never pile up) until stopped. */
function mineIdleBlocks(url: string, everyMs: number): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    try {
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'evm_mine', params: [] }),
        signal: AbortSignal.timeout(Math.max(1_000, everyMs * 4)),
      });
    } catch {
      // a busy or stopping node: the next tick mines
    }
    if (!stopped) timer = setTimeout(() => void tick(), everyMs).unref();
  };
  timer = setTimeout(() => void tick(), everyMs).unref();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * Starts anvil and resolves once it answers eth_chainId with the requested chain id. The node
 * answering is the child started here: anvil writes its --config-out file only once it listens,
 * so a port another process holds (another devnet) fails with PORT_IN_USE instead of being adopted.
 */
export async function startAnvil(opts: StartAnvilOptions): Promise<AnvilNode> {
  const port = opts.port !== undefined && opts.port !== 0 ? opts.port : await findFreePort();
  const idleFromHere = idleBlocksFromHere(opts);
  const proofDir = mkdtempSync(path.join(tmpdir(), 'isorelay-anvil-'));
  const listening = path.join(proofDir, 'listening.json');
  const args = [
    '--chain-id', String(opts.chainId),
    '--port', String(port),
    '--host', opts.host ?? '127.0.0.1',
    '--hardfork', 'prague',
    '--mnemonic', opts.mnemonic ?? ANVIL_TEST_MNEMONIC,
    // Keep a few recent states in memory (or none) and none on disk. By default anvil moves
    // older states to ~/.foundry/anvil/tmp, about 2 GB per node over a test run at 5 blocks/s,
    // and a node that is killed leaves them behind. The relayer reads state only at `latest`.
    ...((opts.keepStates ?? STATE_HISTORY_BLOCKS) === 0 ? ['--prune-history'] : ['--prune-history', String(opts.keepStates ?? STATE_HISTORY_BLOCKS)]),
  ];
  if (opts.keepTransactionBlocks !== undefined) args.push('--transaction-block-keeper', String(opts.keepTransactionBlocks));
  if (opts.blockTimeSeconds !== undefined && !idleFromHere) args.push('--block-time', String(opts.blockTimeSeconds));
  // Mixed mining: each transaction is mined at once, and blocks keep coming at the block time
  // so that confirmations (finality) advance even on an idle chain.
  if (opts.blockTimeSeconds !== undefined && opts.mixedMining === true && !idleFromHere) args.push('--mixed-mining');
  // Written by anvil once it listens (with its accounts' keys: removed as soon as it is seen).
  args.push('--config-out', listening);
  const logFd = opts.logFile !== undefined ? openSync(opts.logFile, 'a') : undefined;
  if (logFd === undefined) args.push('--silent');

  registerExitHandler();
  const child = spawn(resolveAnvilBinary(), args, {
    stdio: ['ignore', logFd ?? 'ignore', 'pipe'],
  });
  liveChildren.add(child);

  const stderrTail: string[] = [];
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    if (logFd !== undefined) writeSync(logFd, chunk);
    stderrTail.push(...chunk.split('\n').filter((line) => line.length > 0));
    stderrTail.splice(0, Math.max(0, stderrTail.length - STDERR_TAIL_LINES));
  });
  const exited = new Promise<void>((resolve) => {
    // 'close' rather than 'exit': stderr may still deliver data after 'exit'.
    child.once('close', () => {
      liveChildren.delete(child);
      if (logFd !== undefined) closeSync(logFd);
      resolve();
    });
  });
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });

  const url = `http://${connectHost(opts.host ?? '127.0.0.1')}:${port}`;
  const describeFailure = (reason: string): Error =>
    new Error(
      `anvil (chain ${opts.chainId}, port ${port}) ${reason}` +
        (stderrTail.length > 0 ? `; last stderr lines:\n${stderrTail.join('\n')}` : '; stderr was empty'),
    );

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  try {
    for (;;) {
      if (spawnError !== undefined) throw describeFailure(`failed to spawn: ${spawnError.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        await exited; // its last stderr lines
        if (stderrTail.some((line) => /address already in use|os error (98|48)\b/i.test(line)))
          throw new IsorelayError(ErrorCode.PORT_IN_USE, `port ${port} is in use: anvil (chain ${opts.chainId}) could not listen on it`, {
            guidance: ['Another devnet or node holds the port: stop it, or pick free ports (isorelay devnet --port 0).'],
            details: { port },
            cause: describeFailure(`exited during startup (code ${child.exitCode ?? child.signalCode})`),
          });
        throw describeFailure(`exited during startup (code ${child.exitCode ?? child.signalCode})`);
      }
      // Only our child writes this file, and only once it listens: before it, whatever answers on the port is not ours.
      const answered = existsSync(listening) ? await readChainId(url) : undefined;
      if (answered !== undefined) {
        if (answered !== opts.chainId) {
          child.kill('SIGKILL');
          await exited;
          throw describeFailure(`answered chain id ${answered}, expected ${opts.chainId}`);
        }
        break;
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        await exited;
        throw describeFailure(`did not answer eth_chainId within ${STARTUP_TIMEOUT_MS / 1000} s`);
      }
      await new Promise((resolve) => setTimeout(resolve, STARTUP_POLL_MS));
    }
  } finally {
    rmSync(proofDir, { recursive: true, force: true });
  }
  const stopMining = idleFromHere ? mineIdleBlocks(url, (opts.blockTimeSeconds ?? 1) * 1000) : () => undefined;
  void exited.then(stopMining);

  return Object.freeze({
    url,
    chainId: opts.chainId,
    port,
    pid: child.pid ?? 0,
    async stop(): Promise<void> {
      stopMining();
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const escalate = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(escalate);
    },
  });
}

/** The address to reach a server on this machine by, when it listens on `host` (any interface: loopback). */
export function connectHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

/** An ethers provider for a local anvil: fixed network, no batching stall, 50 ms polling. */
export function devnetProvider(node: Pick<AnvilNode, 'url' | 'chainId'>): JsonRpcProvider {
  return makeProvider(node.url, node.chainId, 50);
}
