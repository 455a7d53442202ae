// JSON-RPC over HTTP with several URLs per chain: timeouts, failover to the next URL on an
// infrastructure failure, and batches that one node answers whole (so answers agree).
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

interface Endpoint {
  url: string;
  label: string;
  failures: number;
  /** user:password of the URL, as a Basic Authorization header (fetch refuses credentials in a URL). */
  headers: Record<string, string>;
}

function endpointOf(url: string): Endpoint {
  const label = redactUrl(url);
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return { url, label, failures: 0, headers: {} };
    const auth = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
    u.username = '';
    u.password = '';
    return { url: u.toString(), label, failures: 0, headers: { authorization: `Basic ${auth}` } };
  } catch {
    return { url, label, failures: 0, headers: {} };
  }
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

  constructor(options: RpcClientOptions) {
    this.chain = options.chain;
    this.timeoutMs = options.timeoutMs;
    this.endpoints = options.urls.map(endpointOf);
  }

  /** The URL now in use, safe to log. */
  get currentLabel(): string {
    return this.endpoints[this.preferred]?.label ?? '';
  }

  /** Moves off the preferred endpoint, e.g. when its head stopped moving. */
  demoteCurrent(): void {
    this.preferred = (this.preferred + 1) % this.endpoints.length;
  }

  async call<T>(method: string, params: unknown[] = []): Promise<T> {
    const [result] = await this.batch<[T]>([{ method, params }]);
    return result;
  }

  /** Sends the calls in one HTTP request to one node; throws the first JSON-RPC error. */
  async batch<T extends unknown[]>(calls: RpcCall[]): Promise<T> {
    let lastError: unknown;
    for (let i = 0; i < this.endpoints.length; i++) {
      const index = (this.preferred + i) % this.endpoints.length;
      const endpoint = this.endpoints[index] as Endpoint;
      try {
        const results = await this.post(endpoint, calls);
        endpoint.failures = 0;
        if (index !== this.preferred) this.preferred = index;
        return results as T;
      } catch (e) {
        if (e instanceof RpcResponseError) throw e;
        endpoint.failures++;
        lastError = e;
      }
    }
    const summary = lastError instanceof IsorelayError ? lastError.message : String(lastError);
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
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let response: Response;
    let json: unknown;
    try {
      response = await fetch(endpoint.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...endpoint.headers },
        body: JSON.stringify(body.length === 1 ? body[0] : body),
        signal: controller.signal,
      });
    } catch (cause) {
      const timedOut = controller.signal.aborted;
      throw new IsorelayError(
        timedOut ? ErrorCode.RPC_TIMEOUT : ErrorCode.RPC_UNREACHABLE,
        timedOut ? `${endpoint.label} did not answer within ${this.timeoutMs} ms` : `${endpoint.label} is unreachable`,
        { cause: timedOut ? undefined : sanitize(cause) },
      );
    }
    try {
      if (!response.ok) {
        throw new IsorelayError(ErrorCode.RPC_UNREACHABLE, `${endpoint.label} answered HTTP ${response.status}`, {
          details: { status: response.status },
        });
      }
      // The body is read under the same timeout: a node may send its headers and then stall.
      try {
        json = await response.json();
      } catch {
        if (controller.signal.aborted) throw new IsorelayError(ErrorCode.RPC_TIMEOUT, `${endpoint.label} did not answer within ${this.timeoutMs} ms`);
        throw new IsorelayError(ErrorCode.RPC_BAD_RESPONSE, `${endpoint.label} answered with something that is not JSON`);
      }
    } finally {
      clearTimeout(timer);
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

/** Keeps only the message of a network error: its text may hold a credentialed URL. */
function sanitize(cause: unknown): Error {
  const code = (cause as { cause?: { code?: string } }).cause?.code;
  return new Error(code ?? 'network error');
}
