// The engine's reverts around options (openStrategy's checks, the oracle price a quote needs) as
// sentences a trader can act on, as trader.ts does for a lock's.
import { formatUnits, Interface } from 'ethers';
import { errorDecoder, type DecodedError } from '../chains/abiFunction.js';
import { ourArtifact } from '../chains/contractsAbi.js';
import { isExecutionFailure, RpcResponseError } from '../chains/rpc.js';
import { formatUsd } from './legs.js';

const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);
const decode = errorDecoder([engineIface]);

/** What the sentences name. */
export interface StrategyContext {
  market: string;
  positionId: bigint;
  chain: string;
}

const usd = (x: unknown) => `${formatUsd(x as bigint)} USD`;
const when = (unix: unknown) => new Date(Number(unix) * 1000).toISOString().replace('.000Z', 'Z');

/** A decoded engine error as a sentence. */
export function describeStrategyError(d: DecodedError, c: StrategyContext): string {
  const a = d.args;
  const position = `position ${c.positionId}`;
  switch (d.name) {
    case 'EnginePaused':
      return `the engine on ${c.chain} is paused: it opens nothing until its pauser unpauses it`;
    case 'MarketDisabled':
      return `${c.market} is disabled on the engine`;
    case 'OptionsDisabled':
      return `options on ${c.market} are not enabled on the engine (it has no quoter)`;
    case 'NoCollateral':
      return `${position} has no collateral on ${c.chain}: lock some for it first (isorelay lock … --position ${c.positionId} --wait)`;
    case 'CollateralNotTradable':
      return `${position}'s collateral is not USD-valued (chain ${String(a[0])} token ${String(a[1])}): a strategy needs a stablecoin's collateral`;
    case 'InvalidConfig':
      return 'the engine has no settlement token: it could not pay a credit or a payoff';
    case 'PerpOpen':
      return `${position} holds a perpetual: close it first (isolated margin: one exposure per collateral)`;
    case 'StrategyOpen':
      return `${position} holds a strategy already: it settles at its expiry; use another position id`;
    case 'InvalidExpiry':
      return `the expiry ${when(a[0])} is not between now and ${when(a[1])} (the market's longest expiry)`;
    case 'InvalidLegCount':
      return `${String(a[0])} legs: a strategy has 1 to 8`;
    case 'InvalidLeg':
      return `leg ${Number(a[0] as bigint) + 1} has a strike or size of 0 or above 1e36`;
    case 'InvalidPremium':
      return `the premium ${usd(a[0])} is beyond the engine's bound`;
    case 'QuoteExpired':
      return `the quote expired at ${when(a[0])}: ask for a new one`;
    case 'QuoteNonceUsed':
      return 'this quote was used already (its nonce): ask for a new one';
    case 'InvalidQuoteSignature':
      return `the quote is not signed by ${c.market}'s quoter (the signature recovers to ${String(a[0])}): the quote URL is not this engine's market maker, or the quote was changed`;
    case 'RisklessQuote':
      return `the engine refuses the quote: at a premium of ${usd(a[0])} this strategy cannot lose, so it would pay you for nothing (RisklessQuote) — a market maker gone wrong; do not use its quotes`;
    case 'InsufficientMargin': {
      const free = a[0] as bigint;
      const required = a[1] as bigint;
      return `${position}'s margin is ${usd(free + required)}, the strategy needs ${usd(required)}: ${usd(-free)} short; lock more collateral for ${position}, or trade a smaller size`;
    }
    case 'OptionsOpenInterestCap': {
      const open = a[1] as bigint;
      const cap = a[2] as bigint;
      return `${c.market} allows ${formatUnits(cap, 18)} units of option legs open in all (maxOpenInterest); with this strategy it would be ${formatUnits(open, 18)}: trade a smaller size, or wait until strategies settle`;
    }
    case 'OracleStale':
      return `the engine's ${c.market} oracle is stale (last updated ${when(a[1])}): no strategy opens without a fresh price`;
    case 'OracleInvalid':
    case 'OracleOutOfBounds':
      return `the engine's ${c.market} oracle answers no valid price (${d.name})`;
    case 'SequencerDown':
    case 'SequencerGracePeriod':
      return `${c.chain}'s sequencer is down or just restarted (${d.name}): the engine uses no price until its grace period ends`;
    default:
      return `the engine reverted with ${d.name}(${a.map((x) => String(x)).join(', ')})`;
  }
}

/** Revert data as a sentence: an engine error, or what is known of an unknown one. */
export function describeStrategyRevert(data: string | null, c: StrategyContext): string {
  if (data === null || data === '0x') return 'the engine reverted without a reason';
  const known = decode(data);
  if (known !== null) return describeStrategyError(known, c);
  return `the engine reverted with an error its ABI does not know (selector ${data.slice(0, 10)})`;
}

/** The revert data of a failed eth_call (ChainClient), or null when the call did not revert (the node's trouble). */
export function callRevertData(e: unknown): string | null {
  if (!(e instanceof RpcResponseError) || !isExecutionFailure(e)) return null;
  const data = typeof e.data === 'string' ? e.data : e.data !== null && typeof e.data === 'object' && 'data' in e.data ? (e.data).data : undefined;
  return typeof data === 'string' ? data : '0x';
}
