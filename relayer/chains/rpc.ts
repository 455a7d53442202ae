// JSON-RPC over HTTP with several URLs per chain: timeouts, failover to the next URL on an
// infrastructure failure, and batches that one node answers whole (so answers agree). Requests
// go through node:http(s) on keep-alive connections: about half the client time of fetch per
// call, which is most of a call's cost against a nearby node.
import http from 'node:http';
import https from 'node:https';
import { ErrorCode, IsorelayError } from '../errors/base.js';
import { redactUrl } from '../errors/redact.js';

export interface RpcCall {
  method: string;
  params: unknown[];
}

/** The node answered, with a JSON-RPC error (a revert, a bad nonce): not a reason to fail over. */
export class RpcResponseError extends Error {
  override readonly name = 'RpcResponseError';
  constructor(
    readonly method: string,
    readonly rpcCode: number,
    message: string,
    readonly data: unknown,
  ) {
    super(`${method}: ${message}`);
  }
}

/**
 * Whether a node's error answer to eth_call / eth_estimateGas says the call itself fails
 * (a revert, out of gas, an invalid opcode) rather than that the node could not run it (a state
 * it no longer has, a timeout inside the node, a rate limit, a pruned block). Only the first is
 * a verdict on the call; the second is the node's trouble and is retried like any RPC failure.
 */
export function isExecutionFailure(e: RpcResponseError): boolean {
  if (e.rpcCode === 3) return true; // EIP-1474 / geth, erigon, anvil: "execution reverted" with its data
  const data = typeof e.data === 'string' ? e.data : e.data !== null && typeof e.data === 'object' && 'data' in e.data ? (e.data).data : undefined;
  if (typeof data === 'string' && /^0x[0-9a-fA-F]{8}/.test(data)) return true;
  return /revert|out of gas|gas required exceeds|invalid opcode|VM execution error|stack (under|over)flow|invalid jump/i.test(e.message);
}

interface Endpoint {
  url: string;
  /** `url` parsed once (without credentials). */
  target: URL;
  label: string;
  failures: number;
  /** Not asked first before this time (ms): it failed, lagged, or hid logs. */
  demotedUntil: number;
  /** The newest head it reported (eth_blockNumber), to judge it against the others. */
  head: bigint;
  /** user:password of the URL, sent as a Basic Authorization header (never as part of the URL). */
  headers: Record<string, string>;
}

function endpointOf(url: string): Endpoint {
  const label = redactUrl(url);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new IsorelayError(ErrorCode.CONFIG_INVALID, `RPC URL ${label} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new IsorelayError(ErrorCode.CONFIG_INVALID, `RPC URL ${label} is not http(s)`);
  if (u.username === '' && u.password === '') return { url, target: u, label, failures: 0, demotedUntil: 0, head: -1n, headers: {} };
  const auth = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
  u.username = '';
  u.password = '';
  return { url: u.toString(), target: u, label, failures: 0, demotedUntil: 0, head: -1n, headers: { authorization: `Basic ${auth}` } };
}

/** Keep-alive connections per protocol, shared by every client: one handshake per node, not per call. */
const AGENTS = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
} as const;

/** How long a failing, lagging or log-hiding endpoint is asked last. */
const DEMOTION_MS = 30_000;
/** A head this many blocks behind another endpoint's is lagging. */
const LAG_BLOCKS = 10n;

/** The largest answer read (a broken node could stream forever); eth_getLogs ranges stay far below. */
const MAX_ANSWER_BYTES = 128 * 1024 * 1024;

type PostFailure = 'timeout' | 'too-large' | 'network';

class PostError extends Error {
  constructor(readonly kind: PostFailure, readonly code: string | undefined) {
    super(kind);
  }
}

/**
 * POSTs `body` and reads the whole answer before `deadline` (ms since epoch). A keep-alive
 * connection the node closed just as it was reused is retried once on a new connection.
 */
function httpPost(endpoint: Endpoint, body: string, deadline: number, retryStale = true): Promise<{ status: number; text: string }> {
  const { target } = endpoint;
  return new Promise((resolve, reject) => {
    let settled = false;
    let failure: PostFailure | undefined;
    const finish = (e: PostError | null, answer?: { status: number; text: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (e === null && answer !== undefined) resolve(answer);
      else reject(e ?? new PostError('network', undefined));
    };
    const lib = target.protocol === 'https:' ? https : http;
    const req = lib.request(target, {
      method: 'POST',
      agent: AGENTS[target.protocol as keyof typeof AGENTS],
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...endpoint.headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          failure = 'too-large';
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => finish(null, { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => finish(new PostError(failure ?? 'network', undefined)));
      res.on('close', () => {
        if (!res.complete) finish(new PostError(failure ?? 'network', undefined));
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (failure === undefined && retryStale && req.reusedSocket && e.code === 'ECONNRESET' && !settled) {
        settled = true;
        clearTimeout(timer);
        httpPost(endpoint, body, deadline, false).then(resolve, reject);
        return;
      }
      finish(new PostError(failure ?? 'network', e.code));
    });
    const timer = setTimeout(() => {
      failure = 'timeout';
      req.destroy();
    }, Math.max(0, deadline - Date.now()));
    req.end(body);
  });
}

export interface RpcClientOptions {
  chain: string;
  urls: readonly string[];
  timeoutMs: number;
}

export class RpcClient {
  readonly chain: string;
  private readonly endpoints: Endpoint[];
  private readonly timeoutMs: number;
  private preferred = 0;
  private nextId = 1;
  /** When some endpoint last answered, and when every endpoint last failed (ms), for readiness. */
  lastAnsweredAt = 0;
  lastAllFailedAt = 0;
  lastFailure: string | null = null;

  constructor(options: RpcClientOptions) {
    this.chain = options.chain;
    this.timeoutMs = options.timeoutMs;
    this.endpoints = options.urls.map(endpointOf);
  }

  /** The URL now in use, safe to log. */
  get currentLabel(): string {
    return this.endpoints[this.preferred]?.label ?? '';
  }

  /** Moves off the preferred endpoint for a while, e.g. when it answered no logs for blocks below its own head. */
  demoteCurrent(forMs = DEMOTION_MS): void {
    const e = this.endpoints[this.preferred];
    if (e !== undefined) e.demotedUntil = Date.now() + forMs;
    this.preferred = this.pick();
  }

  /**
   * The endpoint to ask first: the first in config order that is not demoted (so the primary is
   * used again once its demotion ends), else the one whose demotion ends soonest.
   */
  private pick(): number {
    const now = Date.now();
    const ok = this.endpoints.findIndex((e) => e.demotedUntil <= now);
    if (ok >= 0) return ok;
    let best = 0;
    this.endpoints.forEach((e, i) => {
      if (e.demotedUntil < (this.endpoints[best] as Endpoint).demotedUntil) best = i;
    });
    return best;
  }

  /**
   * Asks every endpoint for its head (failures ignored) and demotes those that lag the best one:
   * a stale node is not asked first, although it answers. Returns the heads by endpoint label.
   */
  async judgeHeads(): Promise<Record<string, bigint | null>> {
    const out: Record<string, bigint | null> = {};
    if (this.endpoints.length < 2) return out;
    this.judgedAt = Date.now();
    const heads = await Promise.all(this.endpoints.map(async (e) => {
      try {
        const [r] = await this.post(e, [{ method: 'eth_blockNumber', params: [] }]);
        return typeof r === 'string' && /^0x[0-9a-fA-F]+$/.test(r) ? BigInt(r) : null;
      } catch {
        return null;
      }
    }));
    heads.forEach((h, i) => {
      if (h !== null) (this.endpoints[i] as Endpoint).head = h;
      out[(this.endpoints[i] as Endpoint).label] = h;
    });
    heads.forEach((h, i) => {
      if (h !== null) this.judgeHead(i, h);
    });
    return out;
  }

  private judgedAt = 0;

  /** judgeHeads() at most once per `everyMs`, however many watchers share this client. */
  async judgeHeadsIfDue(everyMs: number): Promise<void> {
    if (Date.now() - this.judgedAt >= everyMs) await this.judgeHeads();
  }

  /** A head this far behind the best one seen from another endpoint demotes its endpoint. */
  private judgeHead(index: number, head: bigint): void {
    const e = this.endpoints[index] as Endpoint;
    e.head = head;
    const best = this.endpoints.reduce((m, x) => (x.head > m ? x.head : m), -1n);
    if (this.endpoints.length > 1 && best - head > LAG_BLOCKS) {
      e.demotedUntil = Date.now() + DEMOTION_MS;
      this.preferred = this.pick();
    }
  }

  async call<T>(method: string, params: unknown[] = []): Promise<T> {
    const [result] = await this.batch<[T]>([{ method, params }]);
    return result;
  }

  /** Sends the calls in one HTTP request to one node; throws the first JSON-RPC error. */
  async batch<T extends unknown[]>(calls: RpcCall[]): Promise<T> {
    let lastError: unknown;
    // The first endpoint in config order that is not demoted: failover does not stick to a backup.
    if (this.endpoints.length > 1) this.preferred = this.pick();
    const start = this.preferred;
    for (let i = 0; i < this.endpoints.length; i++) {
      const index = (start + i) % this.endpoints.length;
      const endpoint = this.endpoints[index] as Endpoint;
      try {
        const results = await this.post(endpoint, calls);
        endpoint.failures = 0;
        this.lastAnsweredAt = Date.now();
        this.preferred = index;
        calls.forEach((c, j) => {
          const r = results[j];
          if (c.method === 'eth_blockNumber' && typeof r === 'string' && /^0x[0-9a-fA-F]+$/.test(r)) this.judgeHead(index, BigInt(r));
        });
        return results as T;
      } catch (e) {
        if (e instanceof RpcResponseError) {
          this.lastAnsweredAt = Date.now();
          throw e;
        }
        endpoint.failures++;
        // Failing endpoints are asked last for a while (longer as they keep failing), then tried first again.
        endpoint.demotedUntil = Date.now() + Math.min(DEMOTION_MS, 500 * 2 ** Math.min(endpoint.failures, 10));
        lastError = e;
      }
    }
    const summary = lastError instanceof IsorelayError ? lastError.message : String(lastError);
    this.lastAllFailedAt = Date.now();
    this.lastFailure = summary;
    throw new IsorelayError(
      lastError instanceof IsorelayError ? lastError.code : ErrorCode.RPC_UNREACHABLE,
      `${this.chain}: no RPC endpoint answered (${this.endpoints.length} tried): ${summary}`,
      {
        guidance: [`Check that the RPC URLs of chain "${this.chain}" are reachable (${this.endpoints.map((e) => e.label).join(', ')}).`],
        cause: lastError,
      },
    );
  }

  private async post(endpoint: Endpoint, calls: RpcCall[]): Promise<unknown[]> {
    const body = calls.map((c) => ({ jsonrpc: '2.0', id: this.nextId++, method: c.method, params: c.params }));
    let answer: { status: number; text: string };
    try {
      answer = await httpPost(endpoint, JSON.stringify(body.length === 1 ? body[0] : body), Date.now() + this.timeoutMs);
    } catch (e) {
      const kind = e instanceof PostError ? e.kind : 'network';
      // The body is read under the same deadline: a node may send its headers and then stall.
      if (kind === 'timeout') throw new IsorelayError(ErrorCode.RPC_TIMEOUT, `${endpoint.label} did not answer within ${this.timeoutMs} ms`);
      if (kind === 'too-large') throw new IsorelayError(ErrorCode.RPC_BAD_RESPONSE, `${endpoint.label} answered with more than ${MAX_ANSWER_BYTES} bytes`);
      // Only the error code: a network error's text may hold a credentialed URL.
      throw new IsorelayError(ErrorCode.RPC_UNREACHABLE, `${endpoint.label} is unreachable`, { cause: new Error(e instanceof PostError && e.code !== undefined ? e.code : 'network error') });
    }
    // A provider that refuses a request as too large answers: the caller (the scanner) narrows the range.
    if (answer.status === 413) throw new RpcResponseError(calls[0]?.method ?? '?', -32005, `${endpoint.label} refused the request as too large (HTTP 413)`, null);
    if (answer.status < 200 || answer.status >= 300) {
      throw new IsorelayError(ErrorCode.RPC_UNREACHABLE, `${endpoint.label} answered HTTP ${answer.status}`, { details: { status: answer.status } });
    }
    let json: unknown;
    try {
      json = JSON.parse(answer.text);
    } catch {
      throw new IsorelayError(ErrorCode.RPC_BAD_RESPONSE, `${endpoint.label} answered with something that is not JSON`);
    }
    const answers = (Array.isArray(json) ? json : [json]) as { id?: number; result?: unknown; error?: { code: number; message: string; data?: unknown } }[];
    const byId = new Map(answers.map((a) => [a.id, a]));
    return body.map((b, i) => {
      const a = byId.get(b.id) ?? (body.length === 1 ? answers[0] : undefined);
      if (a === undefined) throw new IsorelayError(ErrorCode.RPC_BAD_RESPONSE, `${endpoint.label} left call ${i} (${b.method}) unanswered`);
      if (a.error !== undefined) throw new RpcResponseError(b.method, a.error.code, a.error.message, a.error.data);
      return a.result;
    });
  }
}
