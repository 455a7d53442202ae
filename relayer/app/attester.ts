// `isorelay attester`: one attester key in a process of its own (RELIABILITY 10). It serves the
// keeper over HTTP on loopback (or behind a bearer token): POST /v1/attest with a price
// attestation; it reconciles the market itself, from its own reads of every chain's feed, and
// signs only what that reconciliation agrees with (liquidation/attesterPolicy.ts).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { id, type Wallet } from 'ethers';
import type pino from 'pino';
import { ChainClient } from '../chains/client.js';
import type { Config } from '../config/schema.js';
import { errorSummary } from '../errors/base.js';
import { attestationDomain, signAttestation, type PriceAttestation } from '../liquidation/attestation.js';
import { refusalOf } from '../liquidation/attesterPolicy.js';
import { PriceService } from '../oracle/priceService.js';
import { readBoundedBody } from '../ops/httpBody.js';

export interface AttesterOptions {
  config: Config;
  key: Wallet;
  host?: string;
  port: number;
  /** When set, every request must carry `authorization: Bearer <token>` (required off loopback). */
  token?: string;
  logger: pino.Logger;
}

export interface RunningAttester {
  url: string;
  address: string;
  close(): Promise<void>;
}

/** The wire shape of an attestation: every integer as a decimal string. */
export interface AttestationRequest {
  market: string;
  attestation: { market: string; low: string; high: string; median: string; timestamp: string; chains: string[]; deadline: string };
}

const MAX_BODY_BYTES = 64 * 1024;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

const integer = (v: unknown): bigint => {
  if (typeof v !== 'string' || !/^[0-9]{1,78}$/.test(v)) throw new Error('an integer as a decimal string is expected');
  return BigInt(v);
};

/** Validates a request body into the attestation it asks for (every field checked at the boundary). */
export function parseAttestationRequest(body: unknown): { market: string; attestation: PriceAttestation } {
  const b = body as Partial<AttestationRequest> | null;
  const a = b?.attestation;
  if (typeof b?.market !== 'string' || a === undefined || typeof a !== 'object' || !Array.isArray(a.chains) || typeof a.market !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(a.market))
    throw new Error('a body { market, attestation: { market, low, high, median, timestamp, chains, deadline } } is expected');
  if (a.chains.length > 64) throw new Error('too many chains');
  return {
    market: b.market,
    attestation: { market: a.market, low: integer(a.low), high: integer(a.high), median: integer(a.median), timestamp: integer(a.timestamp), chains: a.chains.map(integer), deadline: integer(a.deadline) },
  };
}

export async function startAttester(o: AttesterOptions): Promise<RunningAttester> {
  const host = o.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host) && (o.token === undefined || o.token.length < 16))
    throw new Error(`an attester listening on ${host} must require a bearer token of at least 16 characters (--token-env)`);
  const { config } = o;
  const k = config.keeper;
  const engineChain = k === undefined ? undefined : config.chains[k.chain];
  if (k === undefined || engineChain?.attestations === undefined) throw new Error('the config names no keeper chain with an attestations contract: nothing to attest for');
  const domain = attestationDomain(engineChain.chainId, engineChain.attestations);
  const clients = new Map<string, ChainClient>();
  const client = (name: string): ChainClient => {
    let c = clients.get(name);
    if (c === undefined) {
      const cfg = config.chains[name];
      if (cfg === undefined) throw new Error(`unknown chain ${name}`);
      c = new ChainClient(name, cfg);
      clients.set(name, c);
    }
    return c;
  };
  const prices = new PriceService(config, client);
  const expected = o.token === undefined ? null : Buffer.from(`Bearer ${o.token}`);

  const answer = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method === 'GET' && req.url === '/healthz') return answer(res, 200, { ok: true, signer: o.key.address });
    if (req.method !== 'POST' || req.url !== '/v1/attest') return answer(res, 404, { error: 'not found' });
    if (expected !== null) {
      const got = Buffer.from(req.headers.authorization ?? '');
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) return answer(res, 401, { error: 'unauthorized' });
    }
    const body = await readBoundedBody(req, MAX_BODY_BYTES);
    if (body === null) return answer(res, 413, { error: 'body too large' });
    const text = body.toString('utf8');
    let request;
    try {
      request = parseAttestationRequest(JSON.parse(text));
    } catch (e) {
      return answer(res, 400, { error: errorSummary(e) });
    }
    const market = config.markets[request.market];
    if (market === undefined) return answer(res, 400, { error: `unknown market ${request.market}` });
    const read = await prices.reconcile(request.market);
    if (!read.result.ok) return answer(res, 409, { error: `this attester has no reconciled ${request.market} price: ${read.result.detail}` });
    const refusal = refusalOf(request.attestation, {
      marketId: id(request.market), own: read.result, now: read.now, maxDeviationBps: BigInt(market.maxDeviationBps),
      maxTtlSeconds: BigInt(k.attestationTtlSeconds), chainIds: read.result.sources.map((s) => BigInt(config.chains[s.chain]?.chainId ?? 0)), domain,
    });
    if (refusal !== null) {
      o.logger.warn({ market: request.market, refusal }, 'attestation refused');
      return answer(res, 409, { error: refusal });
    }
    const [signature] = await signAttestation(request.attestation, [o.key], domain);
    o.logger.info({ market: request.market, median: request.attestation.median.toString() }, 'attestation signed');
    answer(res, 200, { signer: o.key.address, signature });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      o.logger.error({ err: errorSummary(e) }, 'attester request failed');
      if (!res.headersSent) answer(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    address: o.key.address,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
