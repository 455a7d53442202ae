// The devnet's second RPC provider of each chain: a forwarding JSON-RPC endpoint of our own in
// front of the chain's node. Production configures independent providers (their own nodes);
// on the devnet this gives each chain a second URL that is not the first one, so that the quorum
// of providers is configured and exercised the way an operator runs it (docs/operations.md).
import { createServer, request } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readBoundedBody } from '../ops/httpBody.js';
import { connectHost } from './anvil.js';

export interface RpcForwarder {
  readonly url: string;
  close(): Promise<void>;
}

/** Requests above this are refused, like a provider's own body limit. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

/** Forwards every POST to `target` (an http node URL) and streams the answer back; listens on `host`. */
export async function startRpcForwarder(target: string, port = 0, host = '127.0.0.1'): Promise<RpcForwarder> {
  const to = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      const body = await readBoundedBody(req, MAX_REQUEST_BYTES);
      if (body === null) {
        res.writeHead(413).end();
        return;
      }
      const up = request(to, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'application/json' });
        answer.pipe(res);
      });
      up.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      up.end(body);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    url: `http://${connectHost(host)}:${(server.address() as AddressInfo).port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
