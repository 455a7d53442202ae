// The market maker's HTTP wire (POST /quote): a quote request and the signed quote, as JSON with
// every integer a decimal string. Both sides validate here, once: the server what it is asked, the
// client (the CLI) what it is answered.
import { getAddress, id, isAddress } from 'ethers';
import { z } from 'zod';
import { MAX_LEGS, type OptionLeg } from '../margin/options.js';
import type { OptionQuote } from './quote.js';

/** A request is a few hundred bytes; an answer a little more. */
export const MAX_QUOTE_REQUEST_BYTES = 16 * 1024;
export const MAX_QUOTE_ANSWER_BYTES = 32 * 1024;

export interface QuoteRequest {
  trader: string;
  positionId: bigint;
  /** The market's name as the engine hashes it ("ETH-USD"), or its id (bytes32). */
  market: string;
  /** Unix seconds. */
  expiry: bigint;
  legs: OptionLeg[];
}

/** What the market maker priced with, for the trader to see. USD and σ in 1e18. */
export interface QuotePricing {
  spot: bigint;
  sigma: bigint;
  seconds: bigint;
  fair: bigint;
  edge: bigint;
}

export interface SignedQuote {
  quote: OptionQuote;
  signature: string;
  /** The address the market maker signs with: the engine checks it is the market's quoter. */
  quoter: string;
  engine: string;
  chainId: bigint;
  pricing: QuotePricing;
}

const uint = (bits: number) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]{0,77})$/, 'an unsigned integer as a decimal string')
    .transform((s) => BigInt(s))
    .refine((v) => v < 1n << BigInt(bits), `at most ${bits} bits`);
const int256 = z
  .string()
  .regex(/^(0|-?[1-9][0-9]{0,76})$/, 'an integer as a decimal string')
  .transform((s) => BigInt(s))
  .refine((v) => v >= -(1n << 255n) && v < 1n << 255n, 'within int256');
const address = z.string().refine((s) => isAddress(s), 'an address (0x and 40 hex digits)').transform((s) => getAddress(s));
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, '0x and 64 hex digits');
const marketName = z.string().regex(/^[A-Za-z0-9._/-]{1,32}$/, 'a market name like ETH-USD');

const leg = z.object({ isCall: z.boolean(), isLong: z.boolean(), strike: uint(256), size: uint(256) }).strict();
const legs = z.array(leg).min(1, 'at least one leg').max(MAX_LEGS, `at most ${MAX_LEGS} legs`);

const requestSchema = z
  .object({ trader: address, positionId: uint(256), market: z.union([bytes32, marketName]), expiry: uint(64), legs })
  .strict();

const quoteSchema = z
  .object({ trader: address, positionId: uint(256), market: bytes32, expiry: uint(64), legs, premium: int256, deadline: uint(64), nonce: bytes32 })
  .strict();
const answerSchema = z.object({
  quote: quoteSchema,
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'a 65-byte signature'),
  quoter: address,
  engine: address,
  chainId: uint(64),
  pricing: z.object({ spot: uint(256), sigma: uint(256), seconds: uint(64), fair: int256, edge: int256 }),
});

/** The first problem of a zod error, as "legs.2.strike: an unsigned integer as a decimal string". */
function problem(e: z.ZodError): string {
  const issue = e.issues[0];
  if (issue === undefined) return 'invalid';
  return `${issue.path.length === 0 ? 'body' : issue.path.join('.')}: ${issue.message}`;
}

/** A request body (already JSON.parsed): the request, or a sentence saying what is wrong. */
export function parseQuoteRequest(body: unknown): { ok: true; request: QuoteRequest } | { ok: false; error: string } {
  const r = requestSchema.safeParse(body);
  return r.success ? { ok: true, request: r.data } : { ok: false, error: problem(r.error) };
}

/** A market maker's answer (already JSON.parsed), or throws saying what is wrong. */
export function parseSignedQuote(body: unknown): SignedQuote {
  const r = answerSchema.safeParse(body);
  if (!r.success) throw new Error(`not a signed quote: ${problem(r.error)}`);
  return r.data;
}

/** The engine's id of a market given by name or by id. */
export function marketId(market: string): string {
  return /^0x[0-9a-fA-F]{64}$/.test(market) ? market.toLowerCase() : id(market);
}

const legJson = (l: OptionLeg) => ({ isCall: l.isCall, isLong: l.isLong, strike: l.strike.toString(), size: l.size.toString() });

export function quoteRequestJson(r: QuoteRequest): Record<string, unknown> {
  return { trader: r.trader, positionId: r.positionId.toString(), market: r.market, expiry: r.expiry.toString(), legs: r.legs.map(legJson) };
}

export function signedQuoteJson(s: SignedQuote): Record<string, unknown> {
  const q = s.quote;
  return {
    quote: {
      trader: q.trader, positionId: q.positionId.toString(), market: q.market, expiry: q.expiry.toString(), legs: q.legs.map(legJson),
      premium: q.premium.toString(), deadline: q.deadline.toString(), nonce: q.nonce,
    },
    signature: s.signature,
    quoter: s.quoter,
    engine: s.engine,
    chainId: s.chainId.toString(),
    pricing: Object.fromEntries(Object.entries(s.pricing).map(([k, v]) => [k, v.toString()])),
  };
}
