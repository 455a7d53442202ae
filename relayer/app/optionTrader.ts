// What a trader does with an options quote from the CLI: check it against the engine before
// sending (the position credited and flat, its margin enough for the strategy's requirement as
// relayer/margin computes it, the quote live and signed by the market's quoter), then send
// openStrategy and read back the StrategyOpened requirement. Every refusal is a sentence.
import { Contract, Interface, isError, type Result, type Wallet } from 'ethers';
import type { DecodedError } from '../chains/abiFunction.js';
import type { ChainClient } from '../chains/client.js';
import { ourArtifact } from '../chains/contractsAbi.js';
import { waitForReceipt } from '../chains/provider.js';
import { ErrorCode, IsorelayError } from '../errors/base.js';
import { positionKeyOf } from '../liquidation/engineAccount.js';
import { isDefinedRisk, maxLoss, scenarioLoss } from '../margin/options.js';
import { describeStrategyError, describeStrategyRevert, type StrategyContext } from '../options/engineErrors.js';
import { decodeOptionsConfig, decodeStrategy, optionsCalls, readOraclePrice, type OptionsConfig } from '../options/engineReads.js';
import { openArgs } from '../options/quote.js';
import { cannotLose } from '../options/riskless.js';
import type { SignedQuote } from '../options/quoteWire.js';
import { revertDataOf } from './trader.js';

const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);

/** What the engine holds for the position and the market, read in one batch before opening. */
export interface OpenCheck {
  /** The chain's time at the read. */
  now: bigint;
  spot: bigint | null;
  config: OptionsConfig;
  definedRisk: boolean;
  /** The requirement the engine will compute at open (the initial scenario margin is taken at `now`, an upper bound of the engine's). */
  requirement: bigint;
  /** collateral − fees + min(realizedPnl, 0), USD 1e18: what backs the strategy. */
  margin: bigint;
  /** Sentences of what would make openStrategy revert, in the engine's order; empty: it can go. */
  problems: string[];
}

const named = (name: string, ...args: unknown[]): DecodedError => ({ name, args: args as unknown as Result }); // the sentences read arguments by index only

export async function checkOpen(client: ChainClient, engine: string, q: SignedQuote, c: StrategyContext): Promise<OpenCheck> {
  const key = positionKeyOf(q.quote.trader, q.quote.positionId);
  const [head, answers] = await Promise.all([
    client.block('latest'),
    client.calls([
      { to: engine, data: engineIface.encodeFunctionData('paused') },
      { to: engine, data: engineIface.encodeFunctionData('marketOf', [q.quote.market]) },
      optionsCalls.optionsConfig(engine, q.quote.market),
      { to: engine, data: engineIface.encodeFunctionData('positionOf', [key]) },
      optionsCalls.strategyOf(engine, key),
      { to: engine, data: engineIface.encodeFunctionData('quoteNonceUsed', [q.quote.nonce]) },
      { to: engine, data: engineIface.encodeFunctionData('optionsOpenInterest', [q.quote.market]) },
    ]),
  ]);
  if (head === null) throw new Error(`${client.name} has no latest block`);
  const now = BigInt(head.timestamp);
  const [pausedRaw, marketRaw, configRaw, positionRaw, strategyRaw, nonceRaw, openInterestRaw] = answers as [string, string, string, string, string, string, string];
  const openInterest = engineIface.decodeFunctionResult('optionsOpenInterest', openInterestRaw)[0] as bigint;
  const paused = engineIface.decodeFunctionResult('paused', pausedRaw)[0] as boolean;
  const enabled = (engineIface.decodeFunctionResult('marketOf', marketRaw)[0] as Result).getValue('enabled') as boolean;
  const config = decodeOptionsConfig(configRaw);
  const [p, collateralAmount] = engineIface.decodeFunctionResult('positionOf', positionRaw) as unknown as [{ srcChainId: bigint; token: string; size: bigint; fees: bigint; realizedPnl: bigint }, bigint];
  const strategy = decodeStrategy(strategyRaw);
  const nonceUsed = engineIface.decodeFunctionResult('quoteNonceUsed', nonceRaw)[0] as boolean;
  const spot = await readOraclePrice(client, engine, q.quote.market);
  let usdValued = false;
  let scale = 0n;
  if (p.srcChainId !== 0n) {
    const cc = engineIface.decodeFunctionResult('collateralConfig', await client.call(engine, engineIface.encodeFunctionData('collateralConfig', [p.srcChainId, p.token])));
    usdValued = cc[2] as boolean;
    scale = 10n ** (18n - BigInt(cc[0] as bigint));
  }

  const problems: string[] = [];
  const say = (name: string, ...args: unknown[]) => problems.push(describeStrategyError(named(name, ...args), c));
  const { quote } = q;
  if (paused) say('EnginePaused');
  if (!enabled) say('MarketDisabled', quote.market);
  if (BigInt(config.quoter) === 0n) say('OptionsDisabled', quote.market);
  else if (config.quoter.toLowerCase() !== q.quoter.toLowerCase()) say('InvalidQuoteSignature', q.quoter);
  if (p.srcChainId === 0n || collateralAmount === 0n) say('NoCollateral');
  else if (!usdValued) say('CollateralNotTradable', p.srcChainId, p.token);
  if (p.size !== 0n) say('PerpOpen', key);
  if (strategy !== null) say('StrategyOpen', key);
  if (quote.expiry <= now || quote.expiry > now + config.maxExpiry) say('InvalidExpiry', quote.expiry, now + config.maxExpiry);
  // The next block is at least one second later: a deadline of now is already past for it.
  if (quote.deadline <= now) say('QuoteExpired', quote.deadline);
  if (nonceUsed) say('QuoteNonceUsed', quote.nonce);
  const size = quote.legs.reduce((sum, l) => sum + l.size, 0n);
  if (BigInt(config.quoter) !== 0n && openInterest + size > config.maxOpenInterest) say('OptionsOpenInterestCap', quote.market, openInterest + size, config.maxOpenInterest);

  const definedRisk = isDefinedRisk(quote.legs);
  const seconds = quote.expiry > now ? quote.expiry - now : 0n;
  const requirement = definedRisk
    ? maxLoss(quote.legs, quote.premium)
    : spot === null ? 0n : scenarioLoss(quote.legs, quote.premium, spot, config.sigma, seconds, { shockBps: config.scenarioBps, volShockBps: config.volShockBps, steps: config.scenarioSteps });
  if (!definedRisk && spot === null) problems.push(`the engine has no fresh ${c.market} price to compute the strategy's scenario margin with`);
  if (cannotLose(quote.legs, quote.premium)) say('RisklessQuote', quote.premium);
  const realized = p.realizedPnl < 0n ? p.realizedPnl : 0n;
  const margin = collateralAmount * scale - p.fees + realized;
  if (p.srcChainId !== 0n && collateralAmount !== 0n && margin < requirement) say('InsufficientMargin', margin - requirement, requirement);
  return { now, spot, config, definedRisk, requirement, margin, problems };
}

export interface OpenedStrategy {
  txHash: string;
  blockNumber: bigint;
  positionKey: string;
  requirement: bigint;
  definedRisk: boolean;
  gasUsed: bigint;
}

const refused = (sentence: string, extra: string[] = []) => new IsorelayError(ErrorCode.QUOTE_REFUSED, sentence, { guidance: extra });

/** Sends openStrategy from `trader` (connected to the destination) and returns what StrategyOpened says. */
export async function openStrategy(trader: Wallet, engine: string, q: SignedQuote, c: StrategyContext): Promise<OpenedStrategy> {
  const provider = trader.provider;
  if (provider === null) throw new Error('the trader wallet needs a provider');
  const contract = new Contract(engine, engineIface, trader);
  let hash: string;
  try {
    hash = (await contract.getFunction('openStrategy').send(...openArgs(q.quote, q.signature))).hash;
  } catch (e) {
    if (isError(e, 'INSUFFICIENT_FUNDS')) throw refused(`nothing was sent: you have not enough native token on ${c.chain} for the gas`);
    if (isError(e, 'CALL_EXCEPTION') || revertDataOf(e) !== null) throw refused(`openStrategy would revert, nothing was sent: ${describeStrategyRevert(revertDataOf(e), c)}`);
    throw e;
  }
  const receipt = await waitForReceipt(provider, hash);
  if (receipt.status !== 1) throw refused(`openStrategy reverted on chain (tx ${hash}): the engine's state changed between the checks and the block`, ['Ask for a new quote and try again: the checks will say what changed.']);
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== engine.toLowerCase()) continue;
    const parsed = engineIface.parseLog(log);
    if (parsed?.name !== 'StrategyOpened') continue;
    return {
      txHash: receipt.hash, blockNumber: BigInt(receipt.blockNumber), positionKey: parsed.args.getValue('positionKey') as string,
      requirement: parsed.args.getValue('requirement') as bigint, definedRisk: parsed.args.getValue('definedRisk') as boolean, gasUsed: receipt.gasUsed,
    };
  }
  throw new Error(`openStrategy mined without a StrategyOpened event (tx ${receipt.hash})`);
}
