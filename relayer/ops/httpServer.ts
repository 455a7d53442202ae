// The operator's HTTP endpoints on node:http: liveness, readiness, Prometheus metrics, a JSON
// status view, the message explorer and actions, and the status page (GET /, its data at
// GET /overview). Bound to loopback unless the operator asks otherwise.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pino from 'pino';
import type { Registry } from 'prom-client';
import { ErrorCode, errorSummary, isIsorelayError } from '../errors/base.js';
import { redactText } from '../errors/redact.js';
import { readBoundedBody } from './httpBody.js';
import { sendStatusPage } from './statusPage.js';

export interface HealthReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

export interface OpsServerOptions {
  /** Defaults to 127.0.0.1: status and metrics are for the operator, not the internet. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  registry: Registry;
  health: () => HealthReport | Promise<HealthReport>;
  status: () => unknown;
  /** GET /messages/:key — the explorer's reports of every message the key names (404 when none). */
  messages?: (key: string) => Promise<unknown[]>;
  /**
   * POST /messages/:id/{release,reject,retry,deny} with `Authorization: Bearer TOKEN` and an
   * optional JSON body `{ "reason": "…" }`: an operator's action, each one logged. Without it the
   * server is read-only (every POST is refused).
   */
  actions?: { token: string; run: (id: string, action: string, reason: string | undefined) => Promise<string> };
  /** GET /overview — the status page's data; with it, GET / serves the status page itself. */
  overview?: () => Promise<unknown>;
  logger: pino.Logger;
}

export interface OpsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** JSON.stringify that writes bigints (amounts, block numbers) as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', toJson(value));
}

type Route = (res: ServerResponse) => void | Promise<void>;

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { host = '127.0.0.1', port, registry, health, status, logger } = options;
  const log = logger.child({ component: 'ops-http' });

  const routes: Record<string, Route> = {
    '/healthz': (res) => sendJson(res, 200, { ok: true }),
    '/readyz': async (res) => {
      const report = await health();
      sendJson(res, report.ready ? 200 : 503, report);
    },
    '/metrics': async (res) => send(res, 200, registry.contentType, await registry.metrics()),
    '/status': async (res) => sendJson(res, 200, await status()),
  };
  const overview = options.overview;
  if (overview !== undefined) {
    routes['/overview'] = async (res) => sendJson(res, 200, await overview());
    routes['/'] = (res) => sendStatusPage(res);
  }

  /** An operator's action over HTTP: authenticated by the bearer token, logged whatever its outcome. */
  const act = async (req: IncomingMessage, res: ServerResponse, id: string, action: string): Promise<void> => {
    const actions = options.actions;
    if (actions === undefined) return sendJson(res, 403, { error: 'this server is read-only: start the daemon with ops.actionTokenEnv set to take actions' });
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(actions.token);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      log.warn({ action, id }, 'operator action refused: missing or wrong bearer token');
      return sendJson(res, 401, { error: 'a valid bearer token is required' });
    }
    const body = await readBoundedBody(req, 4_096);
    if (body === null) return sendJson(res, 413, { error: 'the body is larger than 4 KB' });
    let reason: string | undefined;
    if (body.length > 0) {
      try {
        const parsed = JSON.parse(body.toString('utf8')) as { reason?: unknown };
        if (parsed.reason !== undefined && typeof parsed.reason !== 'string') throw new Error('reason must be a string');
        reason = parsed.reason;
      } catch (e) {
        return sendJson(res, 400, { error: `the body must be JSON { "reason": "…" }: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
    try {
      const done = await actions.run(id, action, reason);
      log.warn({ action, id, reason: reason ?? null }, `operator action over HTTP: ${done}`);
      sendJson(res, 200, { ok: true, message: done });
    } catch (e) {
      log.warn({ action, id, reason: reason ?? null }, `operator action over HTTP refused: ${redactText(errorSummary(e))}`);
      sendJson(res, isIsorelayError(e, ErrorCode.USAGE) ? 409 : 500, { error: redactText(errorSummary(e)) });
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const action = /^\/messages\/([^/]+)\/(release|reject|retry|deny)$/.exec(path);
    if (action !== null) {
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST');
        return sendJson(res, 405, { error: `${req.method ?? '?'} is not allowed on ${path}` });
      }
      try {
        return await act(req, res, decodeURIComponent(action[1] as string), action[2] as string);
      } catch (e) {
        log.error({ err: e, path }, 'ops action failed');
        if (!res.headersSent) sendJson(res, 500, { error: redactText(errorSummary(e)) });
        return;
      }
    }
    const messageKey = path.startsWith('/messages/') ? decodeURIComponent(path.slice('/messages/'.length)) : undefined;
    const messages = options.messages;
    const route: Route | undefined = messageKey !== undefined && messageKey !== '' && messages !== undefined
      ? async (r) => {
          const found = await messages(messageKey);
          sendJson(r, found.length === 0 ? 404 : 200, found.length === 0 ? { error: `no message known by ${messageKey}` } : found);
        }
      : Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (route === undefined) return sendJson(res, 404, { error: `no such endpoint: ${path}` });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendJson(res, 405, { error: `${req.method ?? '?'} is not allowed on ${path}` });
    }
    try {
      await route(res);
    } catch (e) {
      log.error({ err: e, path }, 'ops endpoint failed');
      if (!res.headersSent) sendJson(res, 500, { error: redactText(errorSummary(e)) });
      else res.end();
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e) => log.error({ err: e }, 'ops server error'));

  const bound = (server.address() as AddressInfo).port; // listening on TCP: address() is an AddressInfo
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  log.info({ url }, 'ops server listening');

  return {
    url,
    port: bound,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e === undefined ? resolve() : reject(e)));
        // Keep-alive connections would hold close() open until they time out.
        server.closeAllConnections();
      }),
  };
}
