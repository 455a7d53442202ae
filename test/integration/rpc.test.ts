// RPC failover and its limits (relayer/chains/rpc.ts, client.ts; RELIABILITY.md rule 8):
// infrastructure failures move to the next URL, node answers (JSON-RPC errors) do not, no
// credential reaches an error, and a lagging node's empty answer is not taken as "no events".
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChainClient } from '../../relayer/chains/client.js';
import { RpcClient, RpcResponseError } from '../../relayer/chains/rpc.js';
import type { ChainConfig } from '../../relayer/config/schema.js';
import { startAnvil, type AnvilNode } from '../../relayer/devnet/anvil.js';
import { ErrorCode, IsorelayError } from '../../relayer/errors/base.js';
import { startFaultyRpc, type FaultyRpc } from '../setup/faultyRpc.js';

function chainConfig(urls: string[], o: Partial<ChainConfig> = {}): ChainConfig {
  return {
    chainId: 31337, rpcUrls: urls, finality: { confirmations: 1 }, pollMs: 50, rpcTimeoutMs: 2_000, startBlock: 0,
    maxBlockRange: 100, stuckTxMs: 1_000, maxFeeMultiplier: 4, lowBalanceEth: 0n, ...o,
  };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail('expected a rejection');
}

function assertCode(e: unknown, code: ErrorCode): asserts e is IsorelayError {
  assert.ok(e instanceof IsorelayError, `not an IsorelayError: ${String(e)}`);
  assert.equal(e.code, code, e.message);
}

describe('RpcClient and ChainClient against faulty nodes', function () {
  this.timeout(20_000);
  let node: AnvilNode;
  let bad: FaultyRpc;
  let good: FaultyRpc;

  before(async function () {
    node = await startAnvil({ chainId: 31337 });
  });
  after(async function () {
    await node?.stop();
  });
  beforeEach(async function () {
    bad = await startFaultyRpc(node.url);
    good = await startFaultyRpc(node.url);
  });
  afterEach(async function () {
    await bad.close();
    await good.close();
  });

  const client = (urls: string[], timeoutMs = 2_000) => new RpcClient({ chain: 'devnet', urls, timeoutMs });

  it('fails over from a node that drops the connection, then prefers the good one', async function () {
    bad.setMode('down');
    const rpc = client([bad.url, good.url]);
    assert.equal(BigInt(await rpc.call<string>('eth_chainId')), 31337n);
    assert.equal(bad.requests, 1);
    assert.equal(good.requests, 1);
    assert.equal(rpc.currentLabel, good.url);
    await rpc.call('eth_blockNumber');
    await rpc.call('eth_blockNumber');
    assert.equal(bad.requests, 1, 'the failed node is not asked first again');
    assert.equal(good.requests, 3);
  });

  it('asks a node first again once its demotion for failing ends, instead of sticking to the one that answered last', async function () {
    bad.setMode('down');
    const rpc = client([bad.url, good.url]);
    await rpc.call('eth_chainId');
    assert.equal(rpc.currentLabel, good.url);
    bad.setMode('ok');
    await rpc.call('eth_chainId');
    assert.equal(rpc.currentLabel, good.url, 'while the primary is demoted (1 s after one failure) the backup answers');
    await new Promise((r) => setTimeout(r, 1_100));
    await rpc.call('eth_chainId');
    assert.equal(rpc.currentLabel, bad.url, 'the primary, healthy again, is preferred once its demotion ends');
  });

  it('demotes a node whose head lags the others, although it answers', async function () {
    await fetch(node.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_mine', params: ['0x20'] }) });
    const head = BigInt(((await (await fetch(node.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }) })).json()) as { result: string }).result);
    bad.setMode('staleHead', { staleBlock: head - 20n });
    const rpc = client([bad.url, good.url]);
    assert.equal(rpc.currentLabel, bad.url);
    const heads = await rpc.judgeHeads();
    assert.equal(heads[bad.url], head - 20n);
    assert.equal(rpc.currentLabel, good.url, 'the stale node is not asked first');
    assert.equal(BigInt(await rpc.call<string>('eth_blockNumber')) >= head, true);
  });

  it('answers HTTP 413 as a refusal of the request (the scanner narrows its range), not as a dead node', async function () {
    const server = createServer((_req, res) => {
      res.writeHead(413);
      res.end('payload too large');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const rpc = client([`http://127.0.0.1:${(server.address() as AddressInfo).port}`, good.url]);
      const e = await rejection(rpc.call('eth_getLogs', [{}]));
      assert.ok(e instanceof RpcResponseError, String(e));
      assert.equal(e.rpcCode, -32005);
      assert.equal(good.requests, 0, 'no failover');
    } finally {
      server.close();
    }
  });

  for (const mode of ['http429', 'http500', 'garbage'] as const) {
    it(`fails over from a node answering ${mode}`, async function () {
      bad.setMode(mode);
      const rpc = client([bad.url, good.url]);
      assert.equal(BigInt(await rpc.call<string>('eth_chainId')), 31337n);
      assert.equal(bad.requests, 1);
      assert.equal(good.requests, 1);
    });
  }

  it('reports the failure of the last node: HTTP status, non-JSON', async function () {
    bad.setMode('http429');
    assertCode(await rejection(client([bad.url]).call('eth_chainId')), ErrorCode.RPC_UNREACHABLE);
    bad.setMode('garbage');
    const e = await rejection(client([bad.url]).call('eth_chainId'));
    assertCode(e, ErrorCode.RPC_BAD_RESPONSE);
    assert.ok(e.retryable);
  });

  it('gives RPC_TIMEOUT for a node slower than timeoutMs, without waiting for it', async function () {
    bad.setMode('slow', { delayMs: 2_000 });
    const started = Date.now();
    const e = await rejection(client([bad.url], 300).call('eth_chainId'));
    assertCode(e, ErrorCode.RPC_TIMEOUT);
    assert.ok(Date.now() - started < 1_500, `took ${Date.now() - started} ms`);
  });

  it('gives RPC_TIMEOUT for a node that sends its headers and then stalls the body', async function () {
    bad.setMode('slowBody', { delayMs: 2_000 });
    const started = Date.now();
    const e = await rejection(client([bad.url], 300).call('eth_chainId'));
    assertCode(e, ErrorCode.RPC_TIMEOUT);
    assert.ok(Date.now() - started < 1_500, `took ${Date.now() - started} ms`);
  });

  it('fails over from a slow node to a good one', async function () {
    bad.setMode('slow', { delayMs: 2_000 });
    const rpc = client([bad.url, good.url], 300);
    assert.equal(BigInt(await rpc.call<string>('eth_chainId')), 31337n);
    assert.equal(good.requests, 1);
  });

  it('gives RPC_UNREACHABLE without credentials when every URL is down', async function () {
    bad.setMode('down');
    good.setMode('down');
    const port = (u: string) => new URL(u).port;
    const urls = [`http://user:secret@127.0.0.1:${port(bad.url)}/key123`, `http://127.0.0.1:${port(good.url)}/v2/key123?apikey=key123`];
    const e = await rejection(client(urls).call('eth_blockNumber'));
    assertCode(e, ErrorCode.RPC_UNREACHABLE);
    assert.ok(e.retryable);
    assert.equal(good.requests, 1);
    const texts: string[] = [e.describe(), JSON.stringify(e)];
    for (let c: unknown = e; c !== undefined; c = (c as { cause?: unknown }).cause) texts.push(c instanceof Error ? `${c.name}: ${c.message}\n${c.stack ?? ''}` : JSON.stringify(c), JSON.stringify(c));
    for (const t of texts) {
      assert.ok(!t.includes('secret') && !t.includes('key123') && !t.includes('user:'), `a credential leaked: ${t}`);
    }
    for (const u of [bad.url, good.url]) assert.ok(e.describe().includes(`127.0.0.1:${port(u)}`), 'each host is named, so the operator knows which');
  });

  it('uses an RPC URL with user:password credentials, sending them as Basic auth', async function () {
    const url = `http://user:secret@127.0.0.1:${new URL(good.url).port}/`;
    assert.equal(BigInt(await client([url]).call<string>('eth_chainId')), 31337n);
    assert.equal(good.requests, 1);
    assert.equal(good.lastHeaders?.authorization, `Basic ${Buffer.from('user:secret').toString('base64')}`);
  });

  it('does not fail over on a JSON-RPC error: the node answered', async function () {
    const rpc = client([good.url, bad.url]);
    const unknown = await rejection(rpc.call('isorelay_noSuchMethod'));
    assert.ok(unknown instanceof RpcResponseError);
    assert.equal(unknown.rpcCode, -32601);
    const revert = await rejection(rpc.call('eth_call', [{ to: '0x0000000000000000000000000000000000000001', data: '0x', gas: '0x1' }, 'latest']));
    assert.ok(revert instanceof RpcResponseError, String(revert));
    assert.equal(good.requests, 2);
    assert.equal(bad.requests, 0, 'the second node was not asked');
  });

  it('keeps one connection per node, and retries once on a new one when the node dropped a reused connection', async function () {
    // A node that serves the first request of each connection and drops the connection at the
    // second, as a node closing an idle keep-alive connection just as it is reused.
    const sockets = new Set<string>();
    let served = 0;
    const server = createServer((req, res) => {
      const key = `${req.socket.remotePort}`;
      if (sockets.has(key)) {
        req.socket.destroy();
        return;
      }
      sockets.add(key);
      served++;
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: '0x7a69' }));
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const rpc = client([`http://127.0.0.1:${(server.address() as AddressInfo).port}/`]);
      for (let i = 0; i < 3; i++) assert.equal(await rpc.call('eth_chainId'), '0x7a69');
      assert.equal(served, 3, 'each call answered once');
      assert.equal(sockets.size, 3, 'each dropped connection replaced by one new one');
    } finally {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    }
    // A healthy node: every call on the same connection.
    const rpc = client([good.url]);
    for (let i = 0; i < 5; i++) await rpc.call('eth_blockNumber');
    assert.equal(good.requests, 5);
    assert.equal(good.connections, 1);
  });

  it('answers a batch from one node, in call order', async function () {
    const rpc = client([good.url]);
    const [id, head] = await rpc.batch<[string, string]>([{ method: 'eth_chainId', params: [] }, { method: 'eth_blockNumber', params: [] }]);
    assert.equal(BigInt(id), 31337n);
    assert.equal(typeof head, 'string');
    assert.equal(good.requests, 1);
  });

  it('ChainClient.checkChainId() refuses a node of another chain', async function () {
    await new ChainClient('devnet', chainConfig([good.url])).checkChainId();
    const e = await rejection(new ChainClient('base', chainConfig([good.url], { chainId: 8453 })).checkChainId());
    assertCode(e, ErrorCode.RPC_CHAIN_ID_MISMATCH);
    assert.match(e.message, /31337/);
    assert.match(e.message, /8453/);
    assert.equal(e.retryable, false);
  });

  it('logsWithBounds() throws on a lagging node instead of answering "no logs"', async function () {
    const direct = new ChainClient('devnet', chainConfig([node.url]));
    for (let i = 0; i < 5; i++) await direct.rpc.call('evm_mine');
    const head = await direct.blockNumber();
    bad.setMode('staleHead', { staleBlock: head - 3n });
    const lagging = new ChainClient('devnet', chainConfig([bad.url]));
    assert.equal(await lagging.blockNumber(), head - 3n);
    const filter = { address: '0x0000000000000000000000000000000000000001', topics: [] };
    const e = await rejection(lagging.logsWithBounds(filter, head - 1n, head));
    assertCode(e, ErrorCode.RPC_BAD_RESPONSE);
    assert.ok(e.retryable);
    // The same range through a node that has it is answered.
    const answer = await new ChainClient('devnet', chainConfig([good.url])).logsWithBounds(filter, head - 1n, head);
    assert.equal(answer.last.number, head);
    assert.deepEqual(answer.logs, []);
  });
});
