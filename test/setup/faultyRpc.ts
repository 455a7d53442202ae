// A JSON-RPC proxy that breaks the way RPC providers break (RELIABILITY.md rule 15): it forwards
// to a real node and, depending on its mode, drops the connection, answers HTTP 500/429, stalls,
// serves a stale head, answers garbage, or refuses wide eth_getLogs ranges.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { prng } from './prng.js';

export type FaultMode = 'ok' | 'down' | 'http500' | 'http429' | 'slow' | 'slowBody' | 'staleHead' | 'garbage' | 'limitLogs' | 'emptyLogs' | 'chaos';

export interface FaultOptions {
  /** staleHead: the head the lagging node claims; default: the target's head when the mode is set. */
  staleBlock?: bigint;
  /** limitLogs: the widest eth_getLogs range (in blocks) answered; wider ones get -32005. Default 2. */
  maxLogRange?: bigint;
  /** slow, slowBody: the delay before answering (slowBody: after the headers), in ms. Default 2000. */
  delayMs?: number;
  /** chaos: the seed of the fault each request meets (reproducible runs). */
  seed?: number;
  /** chaos: the share of requests that meet a fault (default 0.35). */
  faultRate?: number;
}

/** What a request meets in chaos mode. */
type ChaosFault = 'http429' | 'http500' | 'http502' | 'reset' | 'hold' | 'garbage' | 'truncated' | 'staleHead' | 'emptyLogs' | 'slow';
const CHAOS_FAULTS: readonly ChaosFault[] = ['http429', 'http500', 'http502', 'reset', 'hold', 'garbage', 'truncated', 'staleHead', 'emptyLogs', 'slow'];


interface JsonRpcRequest {
  jsonrpc?: string;
  id?: unknown;
  method: string;
  params?: unknown[];
}

export interface FaultyRpc {
  readonly url: string;
  setMode(mode: FaultMode, options?: FaultOptions): void;
  readonly mode: FaultMode;
  /** HTTP requests received since start (a batch is one request). */
  readonly requests: number;
  /** TCP connections accepted since start (keep-alive clients reuse one). */
  readonly connections: number;
  /** JSON-RPC method names received since start, in order (batches flattened). */
  readonly methods: readonly string[];
  /** chaos: how many requests met each fault. */
  readonly faults: Readonly<Record<string, number>>;
  /** The headers of the last request received. */
  readonly lastHeaders: IncomingHttpHeaders | undefined;
  /** Runs before a request is forwarded (e.g. to mine a block at a precise moment). */
  beforeForward: ((calls: readonly JsonRpcRequest[]) => Promise<void>) | undefined;
  /** A lying provider: rewrites the result of each forwarded call (in 'ok' mode) before it is answered. */
  rewriteResult: ((method: string, result: unknown) => unknown) | undefined;
  /** A lying provider: rewrites each call's params before it is forwarded (in 'ok' mode). */
  rewriteParams: ((method: string, params: unknown[]) => unknown[]) | undefined;
  /** A failing node: answers a call with this JSON-RPC error instead of forwarding it (in 'ok' mode). */
  answerError: ((method: string, params: unknown[]) => { code: number; message: string; data?: string } | undefined) | undefined;
  close(): Promise<void>;
}

async function post(targetUrl: string, body: string): Promise<{ status: number; text: string }> {
  const response = await fetch(targetUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, text: await response.text() };
}

async function forwardOne(targetUrl: string, call: JsonRpcRequest): Promise<unknown> {
  const { text } = await post(targetUrl, JSON.stringify(call));
  return JSON.parse(text) as unknown;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startFaultyRpc(targetUrl: string): Promise<FaultyRpc> {
  let mode: FaultMode = 'ok';
  let options: FaultOptions = {};
  let random = prng(1);
  const faults: Record<string, number> = {};
  let staleBlock: bigint | undefined;
  let requests = 0;
  let connections = 0;
  const methods: string[] = [];
  let lastHeaders: IncomingHttpHeaders | undefined;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const targetHead = async (): Promise<bigint> => {
    const a = (await forwardOne(targetUrl, { jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] })) as { result: string };
    return BigInt(a.result);
  };

  /** One call as a lagging node answers it. */
  const stale = async (call: JsonRpcRequest): Promise<unknown> => {
    staleBlock ??= options.staleBlock ?? (await targetHead());
    const reply = (result: unknown) => ({ jsonrpc: '2.0', id: call.id, result });
    const params = call.params ?? [];
    switch (call.method) {
      case 'eth_blockNumber':
        return reply('0x' + staleBlock.toString(16));
      case 'eth_getLogs':
        return reply([]);
      case 'eth_getTransactionReceipt': {
        // A lagging node has no receipt of a transaction mined above its head.
        const a = (await forwardOne(targetUrl, call)) as { result?: { blockNumber?: string } | null };
        const n = a.result?.blockNumber;
        return typeof n === 'string' && BigInt(n) > staleBlock ? reply(null) : a;
      }
      case 'eth_getBlockByNumber': {
        const tag = params[0];
        if (tag === 'latest' || tag === 'pending' || tag === 'safe' || tag === 'finalized')
          return forwardOne(targetUrl, { ...call, params: ['0x' + staleBlock.toString(16), ...params.slice(1)] });
        if (typeof tag === 'string' && BigInt(tag) > staleBlock) return reply(null);
        return forwardOne(targetUrl, call);
      }
      default:
        return forwardOne(targetUrl, call);
    }
  };

  /** One call through a node that refuses wide log ranges. */
  const limited = async (call: JsonRpcRequest): Promise<unknown> => {
    const filter = (call.params ?? [])[0] as { fromBlock?: string; toBlock?: string } | undefined;
    if (call.method === 'eth_getLogs' && filter?.fromBlock !== undefined && filter.toBlock !== undefined) {
      const width = BigInt(filter.toBlock) - BigInt(filter.fromBlock) + 1n;
      if (width > (options.maxLogRange ?? 2n))
        return { jsonrpc: '2.0', id: call.id, error: { code: -32005, message: 'query returned more than 10000 results' } };
    }
    return forwardOne(targetUrl, call);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requests++;
    lastHeaders = req.headers;
    const body = await readBody(req);
    let parsed: JsonRpcRequest | JsonRpcRequest[] | undefined;
    try {
      parsed = JSON.parse(body) as JsonRpcRequest | JsonRpcRequest[];
    } catch {
      parsed = undefined;
    }
    const calls = parsed === undefined ? [] : Array.isArray(parsed) ? parsed : [parsed];
    for (const c of calls) methods.push(c.method);
    const send = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(text);
    };
    /** A delay that close() cancels. */
    const wait = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          resolve();
        }, ms);
        timers.add(t);
      });
    const delay = () => wait(options.delayMs ?? 2000);
    if (mode === 'chaos') {
      const fault = random() < (options.faultRate ?? 0.35) ? (CHAOS_FAULTS[Math.floor(random() * CHAOS_FAULTS.length)] as ChaosFault) : null;
      if (fault !== null) faults[fault] = (faults[fault] ?? 0) + 1;
      switch (fault) {
        case 'http429':
          res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
          res.end('{"error":"too many requests"}');
          return;
        case 'http500':
          return send(500, 'internal server error');
        case 'http502':
          return send(502, '<html>502 Bad Gateway</html>');
        case 'reset':
          req.socket.destroy();
          return;
        case 'garbage':
          return send(200, '<html>cloudflare says no</html>');
        case 'hold':
          await wait(10_000 + Math.floor(random() * 4_000));
          break;
        case 'slow':
          await wait(200 + Math.floor(random() * 600));
          break;
        case 'truncated': {
          const forwarded = await post(targetUrl, body);
          if (!res.destroyed) send(200, forwarded.text.slice(0, Math.max(1, Math.floor(forwarded.text.length / 2))));
          return;
        }
        case 'staleHead':
        case 'emptyLogs': {
          if (parsed === undefined) break;
          if (fault === 'staleHead') staleBlock = (await targetHead()) - 20n;
          const one = fault === 'staleHead' ? stale : (call: JsonRpcRequest) => (call.method === 'eth_getLogs' ? Promise.resolve({ jsonrpc: '2.0', id: call.id, result: [] }) : forwardOne(targetUrl, call));
          const answers = await Promise.all(calls.map(one));
          if (!res.destroyed) send(200, JSON.stringify(Array.isArray(parsed) ? answers : answers[0]));
          return;
        }
        default:
          break;
      }
      if (res.destroyed) return;
      const forwarded = await post(targetUrl, body);
      if (!res.destroyed) send(forwarded.status, forwarded.text);
      return;
    }
    switch (mode) {
      case 'down':
        req.socket.destroy();
        return;
      case 'http500':
        return send(500, 'internal server error');
      case 'http429':
        return send(429, '{"error":"too many requests"}');
      case 'garbage':
        return send(200, '<html>502 Bad Gateway</html>');
      case 'slow':
        await delay();
        break;
      case 'slowBody': {
        // The headers at once, the body late: a stalled stream behind a CDN.
        const forwarded = await post(targetUrl, body);
        res.writeHead(forwarded.status, { 'content-type': 'application/json' });
        res.flushHeaders();
        await delay();
        if (!res.destroyed) res.end(forwarded.text);
        return;
      }
      default:
        break;
    }
    if (proxy.beforeForward !== undefined) await proxy.beforeForward(calls);
    if ((mode === 'staleHead' || mode === 'limitLogs' || mode === 'emptyLogs') && parsed !== undefined) {
      // emptyLogs: a node whose log index lags its blocks answers eth_getLogs with nothing.
      const empty = (call: JsonRpcRequest) => (call.method === 'eth_getLogs' ? Promise.resolve({ jsonrpc: '2.0', id: call.id, result: [] }) : forwardOne(targetUrl, call));
      const one = mode === 'staleHead' ? stale : mode === 'limitLogs' ? limited : empty;
      const answers = await Promise.all(calls.map(one));
      return send(200, JSON.stringify(Array.isArray(parsed) ? answers : answers[0]));
    }
    const answerError = proxy.answerError;
    const errors = answerError === undefined || parsed === undefined ? [] : calls.map((c) => answerError(c.method, c.params ?? []));
    if (errors.some((e) => e !== undefined)) {
      const answers = await Promise.all(calls.map(async (c, i) => {
        const error = errors[i];
        return error === undefined ? forwardOne(targetUrl, c) : { jsonrpc: '2.0', id: c.id, error };
      }));
      return send(200, JSON.stringify(Array.isArray(parsed) ? answers : answers[0]));
    }
    const rewriteParams = proxy.rewriteParams;
    const forwardedBody = rewriteParams === undefined || parsed === undefined
      ? body
      : JSON.stringify(Array.isArray(parsed) ? calls.map((c) => ({ ...c, params: rewriteParams(c.method, c.params ?? []) })) : { ...calls[0], params: rewriteParams(calls[0]?.method ?? '', calls[0]?.params ?? []) });
    const forwarded = await post(targetUrl, forwardedBody);
    const rewrite = proxy.rewriteResult;
    if (rewrite !== undefined && forwarded.status === 200) {
      const answers = JSON.parse(forwarded.text) as { id?: unknown; result?: unknown } | { id?: unknown; result?: unknown }[];
      const methodOf = new Map(calls.map((c) => [JSON.stringify(c.id), c.method]));
      const lie = (a: { id?: unknown; result?: unknown }) => ('result' in a ? { ...a, result: rewrite(methodOf.get(JSON.stringify(a.id)) ?? '', a.result) } : a);
      if (!res.destroyed) send(200, JSON.stringify(Array.isArray(answers) ? answers.map(lie) : lie(answers)));
      return;
    }
    if (!res.destroyed) send(forwarded.status, forwarded.text);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  server.on('connection', (s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const proxy: FaultyRpc = {
    url: `http://127.0.0.1:${port}`,
    setMode(next: FaultMode, opts: FaultOptions = {}) {
      mode = next;
      options = opts;
      staleBlock = undefined;
      random = prng(opts.seed ?? 1);
    },
    get mode() {
      return mode;
    },
    get connections() {
      return connections;
    },
    get requests() {
      return requests;
    },
    get faults() {
      return faults;
    },
    get methods() {
      return methods;
    },
    get lastHeaders() {
      return lastHeaders;
    },
    beforeForward: undefined,
    rewriteResult: undefined,
    rewriteParams: undefined,
    answerError: undefined,
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
