// The trader's side of a market maker's RFQ endpoint: asks for a quote (POST /quote) and accepts
// only one that is exactly what was asked, for this engine and chain, signed by the key it names.
// Whether that key is the market's quoter on the engine is the caller's check (it reads the engine).
import { verifyTypedData } from 'ethers';
import { boundedText } from '../chains/boundedText.js';
import { ErrorCode, IsorelayError, errorSummary } from '../errors/base.js';
import { legsHash, OPTION_QUOTE_TYPES, quoteDomain } from './quote.js';
import { MAX_QUOTE_ANSWER_BYTES, marketId, parseSignedQuote, quoteRequestJson, type QuoteRequest, type SignedQuote } from './quoteWire.js';

const refused = (message: string, guidance: string[] = []) => new IsorelayError(ErrorCode.QUOTE_REFUSED, message, { guidance });

/** The URL without credentials or query, for messages. */
function shown(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'the quote URL';
  }
}

/** `…/quote` of a base URL ("http://127.0.0.1:9480" or ".../quote"). */
export function quoteEndpoint(url: string): string {
  if (!URL.canParse(url) || !/^https?:\/\//.test(url)) throw new IsorelayError(ErrorCode.USAGE, `--quote-url ${shown(url)} is not an http(s) URL`);
  const u = new URL(url);
  if (!u.pathname.endsWith('/quote')) u.pathname = `${u.pathname.replace(/\/+$/, '')}/quote`;
  return u.toString();
}

export async function requestQuote(url: string, r: QuoteRequest, expect: { engine: string; chainId: bigint }, timeoutMs = 10_000): Promise<SignedQuote> {
  const endpoint = quoteEndpoint(url);
  let res: Response;
  try {
    res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(quoteRequestJson(r)), signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new IsorelayError(ErrorCode.RPC_UNREACHABLE, `the market maker at ${shown(url)} did not answer: ${errorSummary(e)}`, {
      guidance: ['On a devnet, `isorelay devnet` prints its market maker\'s URL (ISORELAY_QUOTE_URL).'],
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(await boundedText(res, MAX_QUOTE_ANSWER_BYTES));
  } catch (e) {
    throw refused(`the market maker at ${shown(url)} answered HTTP ${res.status} with no JSON quote (${errorSummary(e)})`);
  }
  if (!res.ok) {
    const error = (json as { error?: unknown } | null)?.error;
    throw refused(`the market maker refused to quote (HTTP ${res.status}): ${typeof error === 'string' ? error.slice(0, 500) : 'no reason given'}`);
  }
  let s: SignedQuote;
  try {
    s = parseSignedQuote(json);
  } catch (e) {
    throw refused(`the market maker at ${shown(url)} answered ${errorSummary(e)}`);
  }
  checkQuote(s, r, expect);
  return s;
}

/** Throws unless `s` quotes exactly `r` on `expect`'s engine and chain, signed by `s.quoter`. */
export function checkQuote(s: SignedQuote, r: QuoteRequest, expect: { engine: string; chainId: bigint }): void {
  const q = s.quote;
  const differs: string[] = [];
  if (q.trader.toLowerCase() !== r.trader.toLowerCase()) differs.push(`trader ${q.trader}`);
  if (q.positionId !== r.positionId) differs.push(`position ${q.positionId}`);
  if (q.market.toLowerCase() !== marketId(r.market)) differs.push(`market ${q.market}`);
  if (q.expiry !== r.expiry) differs.push(`expiry ${q.expiry}`);
  if (legsHash(q.legs) !== legsHash(r.legs)) differs.push('other legs');
  if (s.engine.toLowerCase() !== expect.engine.toLowerCase() || s.chainId !== expect.chainId) differs.push(`engine ${s.engine} on chain ${s.chainId}`);
  if (differs.length > 0) throw refused(`the market maker quoted something else than asked: ${differs.join(', ')}`);
  let signer: string;
  try {
    signer = verifyTypedData(quoteDomain(expect.chainId, expect.engine), OPTION_QUOTE_TYPES, {
      trader: q.trader, positionId: q.positionId, market: q.market, expiry: q.expiry, legsHash: legsHash(q.legs), premium: q.premium, deadline: q.deadline, nonce: q.nonce,
    }, s.signature);
  } catch {
    throw refused('the quote\'s signature is not a signature');
  }
  if (signer.toLowerCase() !== s.quoter.toLowerCase()) throw refused(`the quote is signed by ${signer}, not by the quoter it names (${s.quoter})`);
}
