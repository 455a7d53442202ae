// `isorelay option quote|open <positionId> --market M --expiry E --leg side:kind:strike:size … --quote-url URL`:
// asks a market maker for a signed quote, shows the strategy as the engine will hold it, refuses a
// quote worse than the trader's limit or one the engine would refuse, and (open) sends openStrategy
// from the trader's key.
import { createInterface } from 'node:readline/promises';
import { Wallet } from 'ethers';
import { checkOpen, openStrategy, type OpenCheck, type OpenedStrategy } from '../../app/optionTrader.js';
import { formatAge } from '../../app/statusReport.js';
import { formatStrategy, premiumText, strategyJson, strategyView } from '../../app/strategyReport.js';
import { ChainClient } from '../../chains/client.js';
import { makeProvider } from '../../chains/provider.js';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import { chainTime, readOptionsConfig } from '../../options/engineReads.js';
import { formatUsd, formatWad, parseLegs, parseWad } from '../../options/legs.js';
import { requestQuote } from '../../options/quoteClient.js';
import { marketId, signedQuoteJson, type SignedQuote } from '../../options/quoteWire.js';
import { toJson } from '../../ops/httpServer.js';
import { addressArg, traderKey } from './lock.js';

export interface OptionOptions {
  config: string;
  market: string;
  expiry: string;
  /** Every --leg, in order (none given: undefined). */
  leg?: string[];
  quoteUrl?: string;
  maxPremium?: string;
  minCredit?: string;
  keyEnv: string;
  /** quote only: whom to quote for when no key is at hand. */
  trader?: string;
  on?: string;
  yes?: boolean;
  json?: boolean;
}

/** Where `isorelay devnet` tells the other commands its market maker listens. */
export const QUOTE_URL_ENV = 'ISORELAY_QUOTE_URL';

const usage = (message: string, guidance: string[] = []) => new IsorelayError(ErrorCode.USAGE, message, { guidance });
const refused = (message: string, guidance: string[] = []) => new IsorelayError(ErrorCode.QUOTE_REFUSED, message, { guidance });

const UNITS: Record<string, bigint> = { s: 1n, m: 60n, min: 60n, h: 3_600n, d: 86_400n, w: 604_800n };

/** --expiry as unix seconds: a duration from the chain's time ("30s", "10m", "2h", "7d", "1h30m") or a unix time. */
export function parseExpiry(text: string, now: bigint): bigint {
  const t = text.trim();
  let expiry: bigint;
  if (/^\d+$/.test(t)) {
    expiry = BigInt(t);
    if (expiry < 1_000_000_000n) throw usage(`--expiry ${t} is neither a duration like 30s, 10m, 2h, 7d nor a unix time (seconds since 1970, e.g. ${now + 3_600n})`);
  } else {
    const parts = [...t.matchAll(/(\d+)\s*(min|s|m|h|d|w)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t.replace(/\s+/g, ''))
      throw usage(`--expiry ${t} is neither a duration like 30s, 10m, 2h, 7d (or 1h30m) nor a unix time`);
    expiry = now + parts.reduce((s, p) => s + BigInt(p[1] as string) * (UNITS[p[2] as string] as bigint), 0n);
  }
  if (expiry <= now) throw usage(`--expiry ${t} is in the past: the chain's time is ${now} (${new Date(Number(now) * 1000).toISOString()}), the expiry ${expiry}`);
  return expiry;
}

/** --max-premium / --min-credit: a USD amount ≥ 0, or undefined. */
export function parseLimit(opts: Pick<OptionOptions, 'maxPremium' | 'minCredit'>): { maxPremium: bigint } | { minCredit: bigint } | undefined {
  if (opts.maxPremium !== undefined && opts.minCredit !== undefined)
    throw usage('--max-premium and --min-credit are one limit said two ways: give one', ['--max-premium 80: pay at most 80 USD; --min-credit 150: receive at least 150 USD.']);
  const parse = (flag: string, text: string) => {
    const v = parseWad(text);
    if (v === null) throw usage(`${flag} ${text} is not an amount of USD like 80 or 12.5`);
    return v;
  };
  if (opts.maxPremium !== undefined) return { maxPremium: parse('--max-premium', opts.maxPremium) };
  if (opts.minCredit !== undefined) return { minCredit: parse('--min-credit', opts.minCredit) };
  return undefined;
}

/** The destination whose engine holds the position: --on, else the only one the config's credit routes name. */
function engineChain(config: Config, on: string | undefined): { name: string; engine: string } {
  const destinations = [...new Set(config.routes.filter((r) => r.direction === 'credit').map((r) => r.destination))].filter((d) => config.chains[d]?.engine !== undefined);
  const name = on ?? (destinations.length === 1 ? destinations[0] : undefined);
  if (name === undefined) throw usage(destinations.length === 0 ? 'the config names no destination engine' : `the config has engines on ${destinations.join(', ')}: pick one with --on`);
  const engine = config.chains[name]?.engine;
  if (engine === undefined) throw usage(`--on ${name}: the config names no engine on that chain`);
  return { name, engine };
}

/** Refuses a quote worse than the trader's limit. */
function checkLimit(premium: bigint, limit: ReturnType<typeof parseLimit>): void {
  if (limit === undefined) return;
  if ('maxPremium' in limit && premium > limit.maxPremium)
    throw refused(`the quote is ${premiumText(premium)}, more than your --max-premium ${formatUsd(limit.maxPremium)} USD: nothing was sent`);
  if ('minCredit' in limit && -premium < limit.minCredit)
    throw refused(`the quote is ${premiumText(premium)}, less than your --min-credit ${formatUsd(limit.minCredit)} USD: nothing was sent`);
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export async function optionCommand(action: 'quote' | 'open', positionText: string, opts: OptionOptions): Promise<void> {
  const config = loadConfig(opts.config);
  if (!/^\d+$/.test(positionText)) throw usage(`position ${positionText} is not a whole number`);
  const positionId = BigInt(positionText);
  if (!/^[A-Za-z0-9._/-]{1,32}$/.test(opts.market)) throw usage(`--market ${opts.market} is not a market name like ETH-USD`);
  const legs = parseLegs(opts.leg ?? []);
  const limit = parseLimit(opts);
  const quoteUrl = opts.quoteUrl ?? process.env[QUOTE_URL_ENV];
  if (quoteUrl === undefined || quoteUrl === '') throw usage(`no market maker: pass --quote-url URL or set ${QUOTE_URL_ENV}`, ['On a devnet, `isorelay devnet` prints its market maker\'s URL.']);
  if (action === 'open' && opts.trader !== undefined) throw usage('--trader is for quotes only: open sends from the trader key (--key-env)');
  if (action === 'open' && opts.yes === true && limit === undefined)
    throw usage('--yes opens without asking: say the worst quote you accept with --max-premium USD (a debit) or --min-credit USD (a credit)');
  if (action === 'open' && opts.yes !== true && process.stdin.isTTY !== true)
    throw usage('open asks before it sends: add --yes (with --max-premium or --min-credit) to open without asking');
  let wallet: Wallet | undefined;
  let trader: string;
  if (opts.trader !== undefined) trader = addressArg('--trader', opts.trader);
  else if (action === 'quote' && (process.env[opts.keyEnv] ?? '').trim() === '')
    throw usage(`whom to quote for: pass --trader ADDRESS, or set ${opts.keyEnv} (the trader key)`);
  else trader = (wallet = await traderKey(opts.keyEnv)).address;

  const destination = engineChain(config, opts.on);
  const chainConfig = config.chains[destination.name];
  if (chainConfig === undefined) throw usage(`unknown chain ${destination.name}`);
  const client = new ChainClient(destination.name, chainConfig);
  await client.checkChainId();
  const now = await chainTime(client);
  const expiry = parseExpiry(opts.expiry, now);
  if (config.markets[opts.market] === undefined) {
    const known = Object.keys(config.markets);
    const like = known.find((m) => m.toLowerCase() === opts.market.toLowerCase());
    throw usage(`--market ${opts.market} is not a market of the config${like === undefined ? '' : ` (did you mean ${like}?)`}; it has ${known.length === 0 ? 'none' : known.join(', ')}`);
  }
  const options = await readOptionsConfig(client, destination.engine, marketId(opts.market));
  if (BigInt(options.quoter) === 0n) throw refused(`options on ${opts.market} are not enabled on the engine on ${destination.name} (no quoter)`);
  if (expiry > now + options.maxExpiry)
    throw usage(`--expiry ${opts.expiry} is ${formatAge(Number(expiry - now) * 1000)} away: ${opts.market} options expire within ${formatAge(Number(options.maxExpiry) * 1000)}`);

  const context = { market: opts.market, positionId, chain: destination.name };
  const signed = await requestQuote(quoteUrl, { trader, positionId, market: opts.market, expiry, legs }, { engine: destination.engine, chainId: BigInt(chainConfig.chainId) });
  const check = await checkOpen(client, destination.engine, signed, context);
  const view = strategyView({
    market: opts.market, legs, premium: signed.quote.premium, requirement: check.requirement, definedRisk: check.definedRisk, opening: true,
    spot: check.spot, expiry, now: check.now, settleWindow: check.config.settleWindow,
  });
  const report = (opened?: OpenedStrategy) => {
    if (opts.json === true) process.stdout.write(`${toJson({ ...signedQuoteJson(signed), strategy: strategyJson(view), margin: check.margin, problems: check.problems, ...(opened === undefined ? {} : { opened }) })}\n`);
  };
  if (opts.json !== true) process.stdout.write(formatQuote(signed, check, formatStrategy(view), positionId, trader));
  checkLimit(signed.quote.premium, limit);
  if (action === 'quote') {
    if (opts.json !== true && check.problems.length > 0) process.stdout.write(`opening it now would be refused: ${check.problems.join('; ')}\n`);
    report();
    return;
  }
  if (check.problems.length > 0) {
    const [first, ...more] = check.problems as [string, ...string[]];
    throw refused(`openStrategy would revert, nothing was sent: ${first}`, more.map((p) => `Also: ${p}.`));
  }
  if (opts.yes !== true) {
    if (!(await confirm(`open this strategy on position ${positionId} for ${premiumText(signed.quote.premium)}? [y/N] `))) {
      process.stdout.write('not opened\n');
      return;
    }
  }
  const provider = makeProvider(chainConfig.rpcUrls[0] as string, chainConfig.chainId, chainConfig.pollMs); // the schema requires one URL
  let opened: OpenedStrategy;
  try {
    opened = await openStrategy(new Wallet((wallet as Wallet).privateKey, provider), destination.engine, signed, context);
  } finally {
    provider.destroy();
  }
  if (opts.json !== true)
    process.stdout.write(`opened: tx ${opened.txHash} (block ${opened.blockNumber}); StrategyOpened requirement ${formatUsd(opened.requirement)} USD (${opened.definedRisk ? 'the maximum loss' : 'the initial scenario margin'}) on position ${positionId}\n`);
  report(opened);
}

function formatQuote(s: SignedQuote, check: OpenCheck, strategy: string, positionId: bigint, trader: string): string {
  const p = s.pricing;
  return [
    `quote for position ${positionId} of ${trader}: ${premiumText(s.quote.premium)}, valid until ${new Date(Number(s.quote.deadline) * 1000).toISOString()} (${s.quote.deadline - check.now} s), signed by ${s.quoter}`,
    `  priced at ${formatWad(p.spot)} with σ ${formatWad(p.sigma * 100n)} % and ${p.seconds} s to expiry: fair ${formatUsd(p.fair)} USD, the market maker's edge ${formatUsd(p.edge)} USD`,
    strategy,
    `  your margin: ${formatUsd(check.margin)} USD for a requirement of ${formatUsd(check.requirement)} USD`,
    '',
  ].join('\n');
}
