// `isorelay positions --trader ADDR`: the trader's isolated positions on the destination engines,
// found from the engine's PositionCredited logs and confirmed with collateralOf, one row per asset,
// with the position's exposure, margin, equity, liquidation price and health at the engine's price.
import { traderKey } from './lock.js';
import { formatUnits, getAddress, id, Interface, isAddress, zeroPadValue, type Result } from 'ethers';
import { formatTable } from '../../app/statusReport.js';
import { ChainClient } from '../../chains/client.js';
import { ourArtifact } from '../../chains/contractsAbi.js';
import { loadConfig } from '../../config/load.js';
import type { ChainConfig, Config } from '../../config/schema.js';
import { readEngineStatus } from '../../app/statusReport.js';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import { accountFromEngine, positionKeyOf } from '../../liquidation/engineAccount.js';
import { equity, liquidationPrice, maintenanceMargin } from '../../margin/index.js';
import { readPositionStrategy } from '../../app/positionStrategy.js';
import { formatStrategy, strategyJson, type StrategyView } from '../../app/strategyReport.js';

export interface PositionsOptions {
  config: string;
  /** Default: the address of the key in `keyEnv`. */
  trader?: string;
  keyEnv: string;
  json?: boolean;
}

const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);
/** decimals() of an ERC-20. */
const ERC20_DECIMALS = '0x313ce567';
const tokenIface = new Interface(ourArtifact('TestToken').abi);
const CREDITED_TOPIC = engineIface.getEvent('PositionCredited')?.topicHash as string; // the event is in the ABI

export interface PositionCollateral {
  destination: string;
  positionId: bigint;
  srcChainId: bigint;
  /** The config's name for the source chain, or null when the config does not know it. */
  sourceChain: string | null;
  token: string;
  symbol: string | null;
  decimals: number;
  /** The engine's current amount (collateralOf), in the token's own units. */
  amount: bigint;
  /** The sum of the credits seen in the logs; differs from `amount` once releases exist. */
  credited: bigint;
  credits: number;
  /** The exposure this collateral margins, when the position trades (else null). */
  exposure: PositionExposure | null;
  /** The options strategy this collateral margins (else null); 'unpriced' when the engine cannot value it now (no fresh price). */
  strategy: StrategyView | 'unpriced' | null;
}

/** USD amounts and prices in 1e18; health = equity / maintenance margin (liquidatable below 1). */
export interface PositionExposure {
  market: string;
  side: 'long' | 'short';
  size: bigint;
  entryPrice: bigint;
  /** The engine's own oracle price, or null when it is stale or unreadable. */
  markPrice: bigint | null;
  /** Collateral plus realized PnL (USD). */
  margin: bigint;
  equity: bigint | null;
  maintenanceMargin: bigint | null;
  liquidationPrice: bigint | null;
  /** equity / maintenance margin in 1e18, or null without a price. */
  health: bigint | null;
}

interface Credit { positionId: bigint; srcChainId: bigint; token: string; amount: bigint }

async function scanCredits(client: ChainClient, engine: string, trader: string): Promise<{ credits: Credit[]; head: bigint }> {
  const head = await client.blockNumber();
  const step = BigInt(client.config.maxBlockRange);
  const credits: Credit[] = [];
  const topics = [CREDITED_TOPIC, null, null, zeroPadValue(trader, 32)];
  for (let from = BigInt(client.config.startBlock); from <= head; from += step) {
    const to = from + step - 1n < head ? from + step - 1n : head;
    const { logs } = await client.logsWithBounds({ address: engine, topics }, from, to);
    for (const log of logs) {
      if (log.removed) continue;
      const ev = engineIface.parseLog(log);
      if (ev === null) continue;
      credits.push({
        positionId: ev.args.getValue('positionId') as bigint,
        srcChainId: ev.args.getValue('srcChainId') as bigint,
        token: getAddress(ev.args.getValue('token') as string),
        amount: ev.args.getValue('amount') as bigint,
      });
    }
  }
  return { credits, head };
}

async function tokenSymbol(config: Config, chain: string | null, token: string): Promise<string | null> {
  const c = chain === null ? undefined : config.chains[chain];
  if (chain === null || c === undefined) return null;
  try {
    const out = await new ChainClient(chain, c).call(token, tokenIface.encodeFunctionData('symbol'));
    return tokenIface.decodeFunctionResult('symbol', out)[0] as string;
  } catch {
    return null; // source chain unreachable or no symbol(): the address names the token
  }
}

export async function readPositions(config: Config, trader: string): Promise<PositionCollateral[]> {
  const destinations = [...new Set(config.routes.filter((r) => r.direction === 'credit').map((r) => r.destination))];
  const rows: PositionCollateral[] = [];
  for (const destination of destinations) {
    const cfg = config.chains[destination];
    if (cfg?.engine === undefined) continue;
    const engine = cfg.engine;
    const client = new ChainClient(destination, cfg);
    const { credits } = await scanCredits(client, engine, trader);
    const marketName = (marketId: string) => Object.keys(config.markets).find((n) => id(n) === marketId) ?? marketId;
    const groups = new Map<string, Credit[]>();
    for (const c of credits) {
      const key = `${c.positionId}:${c.srcChainId}:${c.token}`;
      groups.set(key, [...(groups.get(key) ?? []), c]);
    }
    for (const group of groups.values()) {
      const first = group[0] as Credit; // a group has at least its first credit
      const [amountOut, configOut] = await client.calls([
        { to: engine, data: engineIface.encodeFunctionData('collateralOf', [trader, first.positionId, first.srcChainId, first.token]) },
        { to: engine, data: engineIface.encodeFunctionData('collateralConfig', [first.srcChainId, first.token]) },
      ]);
      const amount = engineIface.decodeFunctionResult('collateralOf', amountOut ?? '0x')[0] as bigint;
      const decimals = Number(engineIface.decodeFunctionResult('collateralConfig', configOut ?? '0x')[0] as bigint);
      const sourceChain = Object.entries(config.chains).find(([, c]) => BigInt(c.chainId) === first.srcChainId)?.[0] ?? null;
      rows.push({
        destination, positionId: first.positionId, srcChainId: first.srcChainId, sourceChain, token: first.token,
        symbol: await tokenSymbol(config, sourceChain, first.token), decimals, amount,
        credited: group.reduce((s, c) => s + c.amount, 0n), credits: group.length,
        exposure: amount === 0n ? null : await readExposure(client, engine, trader, first, marketName),
        strategy: amount === 0n ? null : await readBoundStrategy(client, engine, trader, first, marketName),
      });
    }
  }
  return rows.sort((a, b) => (a.positionId < b.positionId ? -1 : a.positionId > b.positionId ? 1 : Number(a.srcChainId - b.srcChainId)));
}

const WAD = 10n ** 18n;

/** The position's strategy, when the position is bound to this collateral (another was released straight back). */
async function readBoundStrategy(client: ChainClient, engine: string, trader: string, c: Credit, marketName: (id: string) => string): Promise<StrategyView | 'unpriced' | null> {
  const raw = await client.call(engine, engineIface.encodeFunctionData('positionOf', [positionKeyOf(trader, c.positionId)]));
  const [p] = engineIface.decodeFunctionResult('positionOf', raw) as unknown as [{ srcChainId: bigint; token: string }];
  if (p.srcChainId !== c.srcChainId || getAddress(p.token) !== c.token) return null;
  return readPositionStrategy(client, engine, trader, c.positionId, marketName);
}

/** The position's exposure and margin, in one batched read of the engine (positionOf, accountOf, the market, its price). */
async function readExposure(client: ChainClient, engine: string, trader: string, c: Credit, marketName: (id: string) => string): Promise<PositionExposure | null> {
  const key = positionKeyOf(trader, c.positionId);
  const [positionRaw, accountRaw] = await client.calls([
    { to: engine, data: engineIface.encodeFunctionData('positionOf', [key]) },
    { to: engine, data: engineIface.encodeFunctionData('accountOf', [key]) },
  ]);
  const [p] = engineIface.decodeFunctionResult('positionOf', positionRaw ?? '0x') as unknown as [{ market: string; srcChainId: bigint; token: string; size: bigint; entryPrice: bigint }];
  // Only the collateral the position is bound to margins it (another was released straight back).
  if (p.size === 0n || p.srcChainId !== c.srcChainId || getAddress(p.token) !== c.token) return null;
  const account = accountFromEngine(engineIface.decodeFunctionResult('accountOf', accountRaw ?? '0x')[0] as Result);
  // The maintenance rate liquidations apply now: mmr, scaled by σ when the options config sets a sigmaRef.
  const [rateRaw, priceRaw] = await client.rpc.batch<string[]>([
    { method: 'eth_call', params: [{ to: engine, data: engineIface.encodeFunctionData('maintenanceRate', [p.market]) }, 'latest'] },
    // A stale or broken feed makes oraclePrice revert: the row then shows what is known without a price.
    { method: 'eth_call', params: [{ to: engine, data: engineIface.encodeFunctionData('oraclePrice', [p.market]) }, 'latest'] },
  ]).catch(async () => [await client.call(engine, engineIface.encodeFunctionData('maintenanceRate', [p.market])), null]);
  const mmr = engineIface.decodeFunctionResult('maintenanceRate', rateRaw ?? '0x')[0] as bigint;
  const mark = priceRaw === null || priceRaw === undefined ? null : (engineIface.decodeFunctionResult('oraclePrice', priceRaw)[0] as bigint);
  const eq = mark === null ? null : equity(account, mark);
  const mm = mark === null ? null : maintenanceMargin(account.position, mmr, mark);
  return {
    market: marketName(p.market), side: account.position.side, size: p.size, entryPrice: p.entryPrice, markPrice: mark,
    margin: account.collateral.amount - account.fees,
    equity: eq, maintenanceMargin: mm, liquidationPrice: liquidationPrice(account, mmr),
    health: eq === null || mm === null || mm === 0n ? null : (eq * WAD) / mm,
  };
}

const usd = (x: bigint | null, digits = 2): string => (x === null ? '—' : Number(formatUnits(x, 18)).toFixed(digits));

/** Per destination engine: the bad debt of each configured market (as `status` reads it), and the profit its pool owes the trader. */
export async function readEngineAccounts(config: Config, trader: string): Promise<{ destination: string; badDebt: Record<string, bigint>; profitOwed: bigint; settlementDecimals: number }[]> {
  const clients = new Map<string, ChainClient>();
  const clientOf = (chain: string): ChainClient => {
    let c = clients.get(chain);
    if (c === undefined) clients.set(chain, (c = new ChainClient(chain, config.chains[chain] as ChainConfig)));
    return c;
  };
  return Promise.all((await readEngineStatus(config, clientOf)).map(async (engineStatus) => {
    const client = clientOf(engineStatus.chain);
    const engine = config.chains[engineStatus.chain]?.engine as string;
    const [owedRaw, tokenRaw] = await client.calls([
      { to: engine, data: engineIface.encodeFunctionData('profitOwed', [trader]) },
      { to: engine, data: engineIface.encodeFunctionData('settlementToken', []) },
    ]);
    const token = engineIface.decodeFunctionResult('settlementToken', tokenRaw ?? '0x')[0] as string;
    return {
      destination: engineStatus.chain,
      badDebt: engineStatus.reachable ? engineStatus.badDebt : {},
      profitOwed: engineIface.decodeFunctionResult('profitOwed', owedRaw ?? '0x')[0] as bigint,
      settlementDecimals: BigInt(token) === 0n ? 18 : Number(BigInt(await client.call(token, ERC20_DECIMALS))),
    };
  }));
}

export async function positionsCommand(opts: PositionsOptions): Promise<void> {
  const config = loadConfig(opts.config);
  let traderArg: string;
  if (opts.trader !== undefined) traderArg = opts.trader;
  else if ((process.env[opts.keyEnv] ?? '').trim() !== '') traderArg = (await traderKey(opts.keyEnv)).address;
  else throw new IsorelayError(ErrorCode.USAGE, `whose positions? give --trader ADDRESS, or set ${opts.keyEnv} to the trader's key (only its address is used)`);
  const given = traderArg; // printed as given: isAddress narrows traderArg to never in the error branch
  if (!isAddress(traderArg)) throw new IsorelayError(ErrorCode.USAGE, `--trader ${given} is not an address (0x followed by 40 hex digits)`);
  const trader = getAddress(traderArg);
  const rows = await readPositions(config, trader);
  const engines = await readEngineAccounts(config, trader);
  if (opts.json === true) {
    const json = rows.map((r) => ({ ...r, amountFormatted: formatUnits(r.amount, r.decimals), strategy: r.strategy === null || r.strategy === 'unpriced' ? r.strategy : strategyJson(r.strategy) }));
    process.stdout.write(`${JSON.stringify({ trader, positions: json, engines }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
    return;
  }
  // What no insurance covered (the protocol's bad debt) and what the pool still owes this trader.
  const accounts = engines.map((e) => `engine on ${e.destination}: bad debt ${Object.entries(e.badDebt).map(([mk, v]) => `${mk} ${usd(v)} USD`).join(', ') || 'none'}; profit owed to ${trader}: ${formatUnits(e.profitOwed, e.settlementDecimals)}${e.profitOwed > 0n ? ' (claimProfit)' : ''}`).join('\n');
  if (rows.length === 0) {
    process.stdout.write(`no positions for ${trader}: the engine has credited no collateral to this trader yet\n${accounts}\n`);
    return;
  }
  const multi = new Set(rows.map((r) => r.destination)).size > 1;
  const table = formatTable(
    [...(multi ? ['destination'] : []), 'position', 'source chain', 'token', 'amount', 'credits', 'exposure', 'margin', 'equity', 'liq. price', 'health'],
    rows.map((r) => {
      const x = r.exposure;
      return [
        ...(multi ? [r.destination] : []),
        r.positionId.toString(),
        r.sourceChain ?? `chain ${r.srcChainId}`,
        r.symbol === null ? r.token : `${r.symbol} (${r.token})`,
        formatUnits(r.amount, r.decimals),
        String(r.credits),
        x === null ? (r.strategy === null ? '—' : `${r.strategy === 'unpriced' ? 'options strategy' : `${r.strategy.kind} ${r.strategy.market}`} (below)`) : `${x.side} ${formatUnits(x.size, 18)} ${x.market} @ ${usd(x.entryPrice)}`,
        x === null ? '—' : usd(x.margin),
        x === null ? '—' : usd(x.equity),
        x === null ? '—' : x.liquidationPrice === null ? 'none' : usd(x.liquidationPrice),
        x === null || x.health === null ? '—' : `${usd(x.health)}×${x.health < WAD ? ' LIQUIDATABLE' : ''}`,
      ];
    }),
  );
  // Each strategy in full: legs, premium, risk, delta, expiry and what happens then.
  const strategies = rows.flatMap((r) => r.strategy === null ? [] : [`position ${r.positionId} (${r.symbol ?? r.token} from ${r.sourceChain ?? `chain ${r.srcChainId}`}):${r.strategy === 'unpriced' ? ' holds an options strategy the engine cannot value now (no fresh oracle price)' : `\n${formatStrategy(r.strategy)}`}\n`]).join('');
  process.stdout.write(`positions of ${trader} on ${[...new Set(rows.map((r) => r.destination))].join(', ')}\n${table}\n${strategies}${accounts}\n`);
}
