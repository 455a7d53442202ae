// A market maker for the devnet and tests: prices a strategy with the devnet pricing rule
// (pricing.ts) at the engine's oracle price and the market's σ, and signs the EIP-712 OptionQuote
// with the quoter key. Production quotes come from a real market maker's RFQ endpoint; the quoter
// key is a money key (it decides what the settlement pool pays out), held like an attester's.
import { Interface, hexlify, randomBytes, type Wallet } from 'ethers';
import { ourArtifact } from '../chains/contractsAbi.js';
import type { ChainClient } from '../chains/client.js';
import { ErrorCode, IsorelayError } from '../errors/base.js';
import { callRevertData, describeStrategyRevert } from './engineErrors.js';
import { chainTime, decodeOptionsConfig, optionsCalls } from './engineReads.js';
import { DEVNET_PRICING, priceStrategy, type PricingParams } from './pricing.js';
import { quoteDomain, signQuote, type OptionQuote } from './quote.js';
import { cannotLose } from './riskless.js';
import { marketId, type QuoteRequest, type SignedQuote } from './quoteWire.js';

const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);

/** How long a quote may wait before it is sent: long enough to read it, short enough that the price still holds. */
export const DEFAULT_QUOTE_TTL_SECONDS = 60n;

export interface MarketMakerOptions {
  /** The quoter key: the engine opens only strategies quoted under the market's quoter. */
  key: Wallet;
  /** The destination chain, where the engine is. */
  client: ChainClient;
  engine: string;
  pricing?: PricingParams;
  quoteTtlSeconds?: bigint;
}

/** A request the market maker will not quote: the message says why (HTTP 400). */
export const refused = (message: string, guidance: string[] = []) => new IsorelayError(ErrorCode.QUOTE_REFUSED, message, { guidance });

export class MarketMaker {
  readonly address: string;
  private readonly pricing: PricingParams;
  private readonly ttl: bigint;

  constructor(private readonly o: MarketMakerOptions) {
    this.address = o.key.address;
    this.pricing = o.pricing ?? DEVNET_PRICING;
    this.ttl = o.quoteTtlSeconds ?? DEFAULT_QUOTE_TTL_SECONDS;
  }

  /** Prices and signs `r`, or throws QUOTE_REFUSED saying why not (or an RPC error when the engine cannot be read). */
  async quote(r: QuoteRequest): Promise<SignedQuote> {
    const { client, engine } = this.o;
    const market = marketId(r.market);
    const [now, [configRaw, priceRaw]] = await Promise.all([
      chainTime(client),
      client.rpc.batch<string[]>([
        { method: 'eth_call', params: [optionsCalls.optionsConfig(engine, market), 'latest'] },
        { method: 'eth_call', params: [{ to: engine, data: engineIface.encodeFunctionData('oraclePrice', [market]) }, 'latest'] },
      ]).catch((e: unknown) => {
        const data = callRevertData(e);
        if (data === null) throw e; // the node's trouble, not the engine's answer
        throw refused(`no quote: ${describeStrategyRevert(data, { market: r.market, positionId: r.positionId, chain: client.name })}`);
      }),
    ]);
    const config = decodeOptionsConfig(configRaw ?? '0x');
    if (BigInt(config.quoter) === 0n) throw refused(`options on ${r.market} are not enabled on the engine (no quoter)`);
    if (config.quoter.toLowerCase() !== this.address.toLowerCase())
      throw refused(`the engine's quoter for ${r.market} is ${config.quoter}, not this market maker (${this.address}): its quotes would not verify`);
    if (r.expiry <= now) throw refused(`the expiry ${r.expiry} is not after the chain's time ${now}${r.expiry < now ? ` (${now - r.expiry} s in the past)` : ''}`);
    const latest = now + config.maxExpiry;
    if (r.expiry > latest) throw refused(`the expiry is ${r.expiry - now} s away; ${r.market} options expire within ${config.maxExpiry} s`);
    const spot = engineIface.decodeFunctionResult('oraclePrice', priceRaw ?? '0x')[0] as bigint;
    const price = priceStrategy(r.legs, { spot, sigma: config.sigma, seconds: r.expiry - now }, this.pricing);
    // The pricing rule never quotes a strategy the trader cannot lose on (the engine's RisklessQuote);
    // this is the last guard of a money key.
    if (cannotLose(r.legs, price.premium)) throw refused('this strategy cannot lose at the price the rule gives: no quote');
    const quote: OptionQuote = {
      trader: r.trader, positionId: r.positionId, market, expiry: r.expiry, legs: r.legs,
      premium: price.premium, deadline: now + this.ttl, nonce: hexlify(randomBytes(32)),
    };
    const chainId = BigInt(client.chainId);
    const signature = await signQuote(quote, this.o.key, quoteDomain(chainId, engine));
    return {
      quote, signature, quoter: this.address, engine, chainId,
      pricing: { spot, sigma: config.sigma, seconds: r.expiry - now, fair: price.fair, edge: price.edge },
    };
  }
}
