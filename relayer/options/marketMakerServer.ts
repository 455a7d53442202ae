// The devnet market maker over HTTP, as a real one's RFQ endpoint would be reached: POST /quote
// with a quote request (JSON, integers as decimal strings, at most 16 KiB) answers the signed
// quote, or a 400 saying what is wrong; GET /healthz names the quoter. Loopback only: it signs
// with a money key and asks for no authentication.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pino from 'pino';
import { errorSummary, isIsorelayError } from '../errors/base.js';
import { readBoundedBody } from '../ops/httpBody.js';
import { toJson } from '../ops/httpServer.js';
import type { MarketMaker } from './marketMaker.js';
import { MAX_QUOTE_REQUEST_BYTES, parseQuoteRequest, signedQuoteJson } from './quoteWire.js';
import { OptionsDomainError } from '../margin/options.js';

export interface RunningMarketMaker {
  /** Where to POST /quote: `isorelay option … --quote-url`. */
  url: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function serveMarketMaker(maker: MarketMaker, o: { host?: string; port?: number; logger?: pino.Logger } = {}): Promise<RunningMarketMaker> {
  const host = o.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) throw new Error(`the devnet market maker signs with a money key and listens on loopback only, not ${host}`);
  const answer = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(toJson(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return answer(res, 200, { ok: true, quoter: maker.address });
    if (path !== '/quote') return answer(res, 404, { error: 'not found: POST /quote' });
    if (req.method !== 'POST') return answer(res, 405, { error: 'POST a quote request to /quote' });
    const body = await readBoundedBody(req, MAX_QUOTE_REQUEST_BYTES);
    if (body === null) return answer(res, 413, { error: `a quote request is at most ${MAX_QUOTE_REQUEST_BYTES} bytes` });
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return answer(res, 400, { error: 'the body is not JSON: send { trader, positionId, market, expiry, legs: [{ isCall, isLong, strike, size }] }, integers as decimal strings' });
    }
    const request = parseQuoteRequest(json);
    if (!request.ok) return answer(res, 400, { error: request.error });
    try {
      const signed = await maker.quote(request.request);
      o.logger?.info({ trader: signed.quote.trader, positionId: signed.quote.positionId.toString(), premium: signed.quote.premium.toString() }, 'option quote signed');
      return answer(res, 200, signedQuoteJson(signed));
    } catch (e) {
      // What the market maker will not quote, and legs outside the maths' domain, are the asker's to fix.
      if (isIsorelayError(e, 'QUOTE_REFUSED') || e instanceof OptionsDomainError) return answer(res, 400, { error: e.message });
      throw e;
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      o.logger?.error({ err: errorSummary(e) }, 'market maker request failed');
      if (!res.headersSent) answer(res, 503, { error: `the market maker could not quote now: ${errorSummary(e)}` });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
