// `isorelay lock`: a trader's helper. Checks the inputs against the config, reads the token's
// decimals on chain, locks collateral on the source vault and prints the lock's ids; with --wait,
// waits for the destination engine to credit it and prints the credit.
import { Interface, isAddress, getAddress, parseUnits, Wallet } from 'ethers';
import { creditJson, formatCredit, formatLock, lockJson, seconds, transportIdOf, type LockSummary } from '../../app/lockReport.js';
import { lockCollateral, type LockResult } from '../../app/trader.js';
import { waitForCredit } from '../../app/waitForCredit.js';
import { ChainClient } from '../../chains/client.js';
import { ourArtifact } from '../../chains/contractsAbi.js';
import { makeProvider } from '../../chains/provider.js';
import { loadConfig } from '../../config/load.js';
import type { ChainConfig, Config } from '../../config/schema.js';
import { loadWallet } from '../../config/secrets.js';
import { devnetTokenVars } from '../../devnet/chains.js';
import { ErrorCode, errorSummary, IsorelayError } from '../../errors/base.js';
import { toJson } from '../../ops/httpServer.js';

export interface LockOptions {
  config: string;
  chain: string;
  token: string;
  amount: string;
  position: string;
  to?: string;
  keyEnv: string;
  /** Wait for the destination's credit. */
  wait?: boolean;
  /** --timeout: seconds to wait for the credit (with --wait). */
  timeout?: string;
  json?: boolean;
}

/** How long --wait waits for the credit unless --timeout says otherwise. */
export const DEFAULT_WAIT_SECONDS = 300;

const tokenIface = new Interface(ourArtifact('TestToken').abi);
const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);

/** The environment variable `lock` reads the trader's key from unless --key-env names another. */
export const TRADER_KEY_ENV = 'ISORELAY_TRADER_KEY';

const usage = (message: string, guidance: string[] = []) => new IsorelayError(ErrorCode.USAGE, message, { guidance });

/** The destination of a lock from `chain`: --to when given, else the one route whose source it is. */
export function lockDestination(config: Config, chain: string, to?: string): string {
  const known = Object.keys(config.chains).join(', ');
  if (config.chains[chain] === undefined) throw usage(`unknown chain "${chain}": the config names ${known}`);
  const routes = config.routes.filter((r) => r.source === chain && r.direction === 'credit');
  if (routes.length === 0)
    throw usage(`chain "${chain}" is not the source of any route`, [`Sources in this config: ${[...new Set(config.routes.filter((r) => r.direction === 'credit').map((r) => r.source))].join(', ')}.`]);
  if (to !== undefined) {
    if (config.chains[to] === undefined) throw usage(`unknown destination chain "${to}": the config names ${known}`);
    if (!routes.some((r) => r.destination === to)) throw usage(`no route goes from "${chain}" to "${to}"`);
    return to;
  }
  const destinations = [...new Set(routes.map((r) => r.destination))];
  if (destinations.length > 1) throw usage(`chain "${chain}" has routes to ${destinations.join(', ')}: pick one with --to`);
  return destinations[0] as string; // routes is not empty
}

/**
 * An address argument, checksummed. Mixed case is an EIP-55 checksum: one that does not match
 * is a typo somewhere in the address, not "not an address".
 */
export function addressArg(flag: string, value: string): string {
  const valid: boolean = isAddress(value); // a boolean, not isAddress's type guard: the errors below print the value
  if (/^0x[0-9a-fA-F]{40}$/.test(value) && !valid)
    throw usage(`${flag} ${value} has a bad checksum: its mixed upper and lower case does not match the address, so a character is probably wrong`, [
      'Copy the address again from its source, or write it all in lower case to skip the checksum check.',
    ]);
  if (!valid) throw usage(`${flag} ${value} is not an address (0x followed by 40 hex digits)`);
  return getAddress(value);
}

/**
 * --token: the token's address on `chain`. A symbol (USDC) is not one: the message says where the
 * devnet's addresses are (its exports, e.g. $ARB_USDC, and its manifest).
 */
export function tokenArg(chain: string, value: string): string {
  if (/^0x/i.test(value)) return addressArg('--token', value);
  const vars = devnetTokenVars(chain);
  const named = vars.find((v) => v.symbol === value.toUpperCase());
  throw usage(`--token ${value} is not an address: --token takes the token contract's address on ${chain} (0x followed by 40 hex digits)`, [
    vars.length === 0
      ? 'Copy the token\'s address from the chain\'s explorer or your deployment.'
      : `On the devnet: paste the exports \`isorelay devnet\` printed, then --token ${named === undefined ? vars.map((v) => `$${v.name}`).join(' or ') : `$${named.name}`}; the addresses are also in .devnet/manifest.json (chains.${chain}.contracts).`,
  ]);
}

/** The trader's key: its own message, not the relayer's ("before starting the relayer"). */
export async function traderKey(keyEnv: string, env: NodeJS.ProcessEnv = process.env): Promise<Wallet> {
  if ((env[keyEnv] ?? '').trim() === '')
    throw new IsorelayError(ErrorCode.SECRET_MISSING, `the trader key is not set: environment variable ${keyEnv} is empty`, {
      guidance: [
        `export ${keyEnv}=0x… (the private key of the account that holds the collateral: 0x and 64 hex digits), or name another variable with --key-env.`,
        'On a devnet, `isorelay devnet` prints a funded test trader key to paste.',
      ],
    });
  return loadWallet('trader', { env: keyEnv }, env);
}

async function tokenDecimals(client: ChainClient, token: string): Promise<{ decimals: number; symbol: string }> {
  let answers: string[];
  try {
    answers = await client.calls([
      { to: token, data: tokenIface.encodeFunctionData('decimals') },
      { to: token, data: tokenIface.encodeFunctionData('symbol') },
    ]);
  } catch (cause) {
    if (cause instanceof IsorelayError) throw cause; // the chain did not answer: not the token's fault
    throw usage(`token ${token} on ${client.name} reverted on decimals() or symbol(): is it an ERC-20? (${errorSummary(cause)})`);
  }
  const [d, s] = answers;
  let decimals: number;
  try {
    decimals = Number(tokenIface.decodeFunctionResult('decimals', d ?? '0x')[0] as bigint);
  } catch {
    throw usage(`token ${token} has no decimals() on ${client.name}: no ERC-20 at that address on that chain`);
  }
  let symbol = token;
  try {
    symbol = tokenIface.decodeFunctionResult('symbol', s ?? '0x')[0] as string;
  } catch {
    // A token without symbol() still locks; the address names it.
  }
  return { decimals, symbol };
}

/** --wait's timeout in ms, or undefined without --wait. */
function waitTimeoutMs(opts: LockOptions): number | undefined {
  if (opts.wait !== true) {
    if (opts.timeout !== undefined) throw usage('--timeout is how long --wait waits: add --wait');
    return undefined;
  }
  const text = opts.timeout ?? String(DEFAULT_WAIT_SECONDS);
  const s = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(s > 0)) throw usage(`--timeout ${text} is not a positive number of seconds`);
  return Math.round(s * 1000);
}

/** The destination's engine, checked to answer, and its head: the credit is looked for from there. */
async function destinationWatch(name: string, dst: ChainConfig): Promise<{ client: ChainClient; engine: string; fromBlock: bigint }> {
  if (dst.engine === undefined) throw usage(`--wait: the config names no engine on ${name} to read the credit from`);
  const client = new ChainClient(name, dst);
  await client.checkChainId();
  const out = await client.call(dst.engine, engineIface.encodeFunctionData('processed', [`0x${'00'.repeat(32)}`]));
  if (out === '0x')
    throw new IsorelayError(ErrorCode.CONFIG_INVALID, `--wait: nothing was sent: the engine ${dst.engine} on ${name} answers nothing (no contract there?)`, {
      guidance: [`Check chains.${name}.engine (isorelay doctor checks it), or lock without --wait.`],
    });
  return { client, engine: dst.engine, fromBlock: await client.blockNumber() };
}

/**
 * "waiting for the credit on base… 3 s" on stderr (stdout keeps the result, or --json's JSON):
 * rewritten in place on a terminal, a line every 5 s otherwise.
 */
function waitProgress(destination: string, out: NodeJS.WriteStream): { update: (elapsedMs: number) => void; done: () => void } {
  const tty = out.isTTY;
  let printed = -1;
  const text = (ms: number) => `waiting for the credit on ${destination}… ${Math.floor(ms / 1000)} s`;
  return {
    update(ms) {
      if (tty) {
        out.write(`\r${text(ms)}\x1b[K`);
        printed = ms;
      } else if (printed < 0 || Math.floor(ms / 5000) > Math.floor(printed / 5000)) {
        out.write(`${text(ms)}\n`);
        printed = ms;
      }
    },
    done() {
      if (tty && printed >= 0) out.write('\r\x1b[K');
    },
  };
}

export async function lockCommand(opts: LockOptions): Promise<void> {
  const config = loadConfig(opts.config);
  const destination = lockDestination(config, opts.chain, opts.to);
  const src = config.chains[opts.chain];
  const dst = config.chains[destination];
  if (src?.vault === undefined || dst === undefined) throw usage(`chain "${opts.chain}" has no vault in the config`);
  const token = tokenArg(opts.chain, opts.token);
  if (!/^\d+$/.test(opts.position)) throw usage(`--position ${opts.position} is not a whole number`);
  const positionId = BigInt(opts.position);
  if (!/^\d+(\.\d+)?$/.test(opts.amount)) throw usage(`--amount ${opts.amount} is not a positive decimal number like 2500 or 0.5`);
  const timeoutMs = waitTimeoutMs(opts);

  const trader = await traderKey(opts.keyEnv);
  const client = new ChainClient(opts.chain, src);
  await client.checkChainId();
  const { decimals, symbol } = await tokenDecimals(client, token);
  let amount: bigint;
  try {
    amount = parseUnits(opts.amount, decimals);
  } catch {
    throw usage(`--amount ${opts.amount} has more decimals than ${symbol} (${decimals})`);
  }
  if (amount <= 0n) throw usage(`--amount must be positive, got ${opts.amount}`);
  // --wait reads the destination: it must answer before anything is locked.
  const watch = timeoutMs === undefined ? undefined : await destinationWatch(destination, dst);

  const url = src.rpcUrls[0] as string; // the schema requires at least one
  const provider = makeProvider(url, src.chainId, src.pollMs);
  let r: LockResult;
  try {
    r = await lockCollateral({
      trader: new Wallet(trader.privateKey, provider),
      vault: src.vault,
      token,
      amount,
      dstChainId: BigInt(dst.chainId),
      positionId,
      units: { decimals, symbol },
      chain: opts.chain,
    });
  } finally {
    provider.destroy();
  }
  const id = transportIdOf(r, src.vault, src.wormhole?.chainId);
  const lock: LockSummary = { source: opts.chain, destination, trader: trader.address, token, symbol, decimals, amount, amountText: opts.amount, positionId, result: r, id };
  if (opts.json !== true) process.stdout.write(formatLock(lock));
  if (watch === undefined || timeoutMs === undefined) {
    if (opts.json === true) process.stdout.write(`${toJson(lockJson(lock))}\n`);
    return;
  }

  const progress = waitProgress(destination, process.stderr);
  const credit = await waitForCredit({
    destination: watch.client, engine: watch.engine, lockId: r.lockId, fromBlock: watch.fromBlock,
    sinceMs: r.minedAtMs, timeoutMs, pollMs: dst.pollMs, onWaiting: progress.update,
  });
  progress.done();
  if (opts.json === true) process.stdout.write(`${toJson({ ...lockJson(lock), credit: creditJson(credit) })}\n`);
  else process.stdout.write(formatCredit(lock, credit));
  if (credit.kind === 'timeout') {
    throw new IsorelayError(ErrorCode.CREDIT_TIMEOUT, `no credit on ${destination} ${seconds(credit.elapsedMs)} after the lock (--timeout ${timeoutMs / 1000})`, {
      guidance: [
        `The lock itself is done (tx ${r.txHash} on ${opts.chain}): do not lock again; the credit follows when a relayer delivers its message.`,
        `Where the message is and what happens next: isorelay message ${r.lockId} -c ${opts.config}`,
        ...(credit.lastError === undefined ? [] : [`The last read of ${destination} failed: ${credit.lastError}`]),
      ],
    });
  }
  if (credit.kind === 'refunded') process.exitCode = 1; // processed, but the position was not credited
}
