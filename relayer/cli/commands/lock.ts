// `isorelay lock`: a trader's helper. Checks the inputs against the config, reads the token's
// decimals on chain, locks collateral on the source vault and prints the lock's ids.
import { Interface, formatEther, isAddress, getAddress, parseUnits, Wallet } from 'ethers';
import { lockCollateral } from '../../app/trader.js';
import { ChainClient } from '../../chains/client.js';
import { ourArtifact } from '../../chains/contractsAbi.js';
import { makeProvider } from '../../chains/provider.js';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { loadWallet } from '../../config/secrets.js';
import { ErrorCode, errorSummary, IsorelayError } from '../../errors/base.js';

export interface LockOptions {
  config: string;
  chain: string;
  token: string;
  amount: string;
  position: string;
  to?: string;
  keyEnv: string;
}

const tokenIface = new Interface(ourArtifact('TestToken').abi);

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

/** The trader's key: its own message, not the relayer's ("before starting the relayer"). */
async function traderKey(keyEnv: string, env: NodeJS.ProcessEnv = process.env): Promise<Wallet> {
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

export async function lockCommand(opts: LockOptions): Promise<void> {
  const config = loadConfig(opts.config);
  const destination = lockDestination(config, opts.chain, opts.to);
  const src = config.chains[opts.chain];
  const dst = config.chains[destination];
  if (src?.vault === undefined || dst === undefined) throw usage(`chain "${opts.chain}" has no vault in the config`);
  const token = addressArg('--token', opts.token);
  if (!/^\d+$/.test(opts.position)) throw usage(`--position ${opts.position} is not a whole number`);
  const positionId = BigInt(opts.position);
  if (!/^\d+(\.\d+)?$/.test(opts.amount)) throw usage(`--amount ${opts.amount} is not a positive decimal number like 2500 or 0.5`);

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

  const url = src.rpcUrls[0] as string; // the schema requires at least one
  const provider = makeProvider(url, src.chainId, src.pollMs);
  try {
    const r = await lockCollateral({
      trader: new Wallet(trader.privateKey, provider),
      vault: src.vault,
      token,
      amount,
      dstChainId: BigInt(dst.chainId),
      positionId,
      units: { decimals, symbol },
      chain: opts.chain,
    });
    process.stdout.write(
      [
        `locked ${opts.amount} ${symbol} on ${opts.chain} for position ${positionId} on ${destination}`,
        `  trader  ${trader.address}`,
        ...(r.approveTxHash === undefined ? [] : [`  approve ${r.approveTxHash} (the vault may now spend your ${symbol})`]),
        `  lockId  ${r.lockId}`,
        `  nonce   ${r.nonce}`,
        `  tx      ${r.txHash} (block ${r.blockNumber})`,
        `  fee     ${formatEther(r.fee)} (native, ${r.fee} wei)`,
        `  msg id  ${r.transportId} (LayerZero guid or Wormhole VAA id)`,
        '',
      ].join('\n'),
    );
  } finally {
    provider.destroy();
  }
}
