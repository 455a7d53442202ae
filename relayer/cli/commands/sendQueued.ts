// `isorelay send-queued [--id N | --all] [--trader A]`: the settlements queued on the engine (a
// refunded lock's RELEASE, a liquidation's), shown with whether each still waits; with --id or --all
// sent from the trader key (or the relayer key), which pays their messaging fees.
import { Interface, Wallet } from 'ethers';
import { formatTokenAmount } from '../../app/trader.js';
import { readQueued, sendQueued, SEND_BATCH, type QueuedView, type SentSettlements } from '../../app/sendQueued.js';
import { ChainClient } from '../../chains/client.js';
import { ourArtifact } from '../../chains/contractsAbi.js';
import { makeProvider } from '../../chains/provider.js';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { loadWallet } from '../../config/secrets.js';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import { toJson } from '../../ops/httpServer.js';
import { addressArg, traderKey } from './lock.js';

export interface SendQueuedOptions {
  config: string;
  id?: string;
  all?: boolean;
  trader?: string;
  on?: string;
  keyEnv: string;
  relayerKey?: boolean;
  json?: boolean;
}

const tokenIface = new Interface(ourArtifact('TestToken').abi);
const usage = (message: string, guidance: string[] = []) => new IsorelayError(ErrorCode.USAGE, message, { guidance });

/** The chain whose engine queued them: --on, else the only destination with an engine. */
function engineChain(config: Config, on: string | undefined): { name: string; engine: string } {
  const engines = Object.entries(config.chains).filter(([, c]) => c.engine !== undefined).map(([name]) => name);
  const name = on ?? (engines.length === 1 ? engines[0] : undefined);
  if (name === undefined) throw usage(engines.length === 0 ? 'the config names no engine' : `the config has engines on ${engines.join(', ')}: pick one with --on`);
  const engine = config.chains[name]?.engine;
  if (engine === undefined) throw usage(`--on ${name}: the config names no engine on that chain`);
  return { name, engine };
}

/** The config's name of a chain id, or "chain N". */
const chainName = (config: Config, chainId: bigint) => Object.entries(config.chains).find(([, c]) => BigInt(c.chainId) === chainId)?.[0] ?? `chain ${chainId}`;

/** "1 WETH", read from the token on its chain; the raw amount and address when the chain is not configured or does not answer. */
async function amountTexts(config: Config, views: readonly QueuedView[]): Promise<Map<QueuedView, string>> {
  const units = new Map<string, { decimals: number; symbol: string } | null>();
  for (const { s } of views) {
    const key = `${s.chainId}:${s.token.toLowerCase()}`;
    if (units.has(key)) continue;
    const name = chainName(config, s.chainId);
    const chain = config.chains[name];
    try {
      if (chain === undefined) throw new Error('not configured');
      const [d, sym] = await new ChainClient(name, chain).calls([
        { to: s.token, data: tokenIface.encodeFunctionData('decimals') },
        { to: s.token, data: tokenIface.encodeFunctionData('symbol') },
      ]);
      units.set(key, { decimals: Number(tokenIface.decodeFunctionResult('decimals', d as string)[0] as bigint), symbol: tokenIface.decodeFunctionResult('symbol', sym as string)[0] as string });
    } catch {
      units.set(key, null); // shown raw: the amount is what counts
    }
  }
  return new Map(views.map((v) => {
    const u = units.get(`${v.s.chainId}:${v.s.token.toLowerCase()}`);
    return [v, u == null ? `${v.s.amount} of token ${v.s.token}` : `${formatTokenAmount(v.s.amount, u.decimals)} ${u.symbol}`];
  }));
}

function formatView(config: Config, v: QueuedView, amount: string): string {
  const s = v.s;
  return `  ${String(s.id).padStart(4)}  ${s.kind.padEnd(7)} ${amount} to ${s.trader} on ${chainName(config, s.chainId)} (position ${s.positionId})  ${v.waiting ? 'WAITING' : 'sent'}  queued in ${v.tx} (block ${v.block})`;
}

function formatSent(r: SentSettlements, chain: string): string {
  return [
    `sent on ${chain}: tx ${r.tx} (block ${r.block}), messaging fee ${r.fee} wei`,
    ...r.sent.map((x) => `  settlement ${x.id}: the vault's message ${x.messageId}; a relayer delivers it to the vault`),
    ...r.skipped.map((id) => `  settlement ${id}: sent meanwhile by someone else (its fee was refunded)`),
    '',
  ].join('\n');
}

async function senderKey(opts: SendQueuedOptions, config: Config): Promise<Wallet> {
  return opts.relayerKey === true ? loadWallet('relayer', config.keys.relayer) : traderKey(opts.keyEnv);
}

export async function sendQueuedCommand(opts: SendQueuedOptions): Promise<void> {
  const config = loadConfig(opts.config);
  if (opts.id !== undefined && opts.all === true) throw usage('--id sends one settlement and --all every one: give one of them');
  if (opts.id !== undefined && !/^[1-9]\d*$/.test(opts.id)) throw usage(`--id ${opts.id} is not a settlement id (a whole number from 1, as SettlementQueued and \`isorelay lock --wait\` show it)`);
  if (opts.relayerKey === true && opts.keyEnv !== 'ISORELAY_TRADER_KEY') throw usage('--relayer-key and --key-env name two keys: give one of them');
  const trader = opts.trader === undefined ? undefined : addressArg('--trader', opts.trader).toLowerCase();
  const id = opts.id === undefined ? undefined : BigInt(opts.id);
  const sending = id !== undefined || opts.all === true;
  // The key before any read: a missing key is said at once.
  const wallet = sending ? await senderKey(opts, config) : undefined;

  const { name, engine } = engineChain(config, opts.on);
  const chain = config.chains[name];
  if (chain === undefined) throw usage(`unknown chain ${name}`);
  const client = new ChainClient(name, chain);
  await client.checkChainId();
  const read = await readQueued(client, engine, id);
  const views = read.settlements.filter((v) => trader === undefined || v.s.trader.toLowerCase() === trader);
  if (id !== undefined && views.length === 0)
    throw usage(read.settlements.length > 0
      ? `settlement ${id} is not for ${opts.trader}: it goes to ${read.settlements[0]?.s.trader}`
      : `no settlement ${id} on ${name}: the engine has queued ${read.handedOut} so far${id <= read.handedOut ? `, but its log is not in the blocks read from chains.${name}.startBlock (${chain.startBlock})` : ''}`);
  const waiting = views.filter((v) => v.waiting);
  const amounts = await amountTexts(config, views);

  if (opts.json !== true) {
    process.stdout.write(`queued settlements on ${name} (engine ${engine}${trader === undefined ? '' : `, to ${opts.trader}`}): ${waiting.length} waiting, ${views.length - waiting.length} sent\n`);
    for (const v of views) process.stdout.write(`${formatView(config, v, amounts.get(v) ?? '')}\n`);
  }
  const json = (sent: SentSettlements[]) => {
    if (opts.json !== true) return;
    const settlements = views.map((v) => ({ id: v.s.id, kind: v.s.kind, chain: chainName(config, v.s.chainId), chainId: v.s.chainId, trader: v.s.trader, positionId: v.s.positionId, token: v.s.token, amount: v.s.amount, amountText: amounts.get(v), waiting: v.waiting, queuedTx: v.tx, queuedBlock: v.block }));
    process.stdout.write(`${toJson({ chain: name, engine, settlements, sent })}\n`);
  };
  if (!sending || wallet === undefined) {
    if (opts.json !== true && waiting.length > 0) process.stdout.write(`nothing sent: send one with --id N, or every one waiting with --all (your key pays the messaging fees)\n`);
    json([]);
    return;
  }
  if (waiting.length === 0) {
    if (opts.json !== true) process.stdout.write(id !== undefined ? `settlement ${id} was already sent: nothing to do\n` : 'no queued settlement waits: nothing to send\n');
    json([]);
    return;
  }
  const provider = makeProvider(chain.rpcUrls[0] as string, chain.chainId, chain.pollMs); // the schema requires one URL
  const sent: SentSettlements[] = [];
  try {
    const signer = new Wallet(wallet.privateKey, provider);
    for (let i = 0; i < waiting.length; i += SEND_BATCH) {
      const r = await sendQueued(client, engine, signer, waiting.slice(i, i + SEND_BATCH).map((v) => v.s));
      sent.push(r);
      if (opts.json !== true) process.stdout.write(formatSent(r, name));
    }
  } finally {
    provider.destroy();
  }
  json(sent);
}
