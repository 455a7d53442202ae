// The devnet's nodes and ports (relayer/devnet/anvil.ts, ports.ts, network.ts): a node started
// is the child that listens, never another node on its port; a devnet refuses taken ports before
// it touches anything; a long-running node keeps recent states and hours of transactions.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAnvil, type AnvilNode } from '../../relayer/devnet/anvil.js';
import { LONG_RUNNING_BLOCK_SECONDS, LONG_RUNNING_HISTORY, startDevnet } from '../../relayer/devnet/network.js';
import { portIsFree } from '../../relayer/devnet/ports.js';
import { ErrorCode, isIsorelayError } from '../../relayer/errors/base.js';
import { freeBasePort } from '../setup/cli.js';

async function rpc(url: string, method: string, params: unknown[] = []): Promise<{ result?: unknown; error?: { message: string } }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  return (await response.json()) as { result?: unknown; error?: { message: string } }; // a JSON-RPC answer: result or error
}

async function blockNumber(url: string): Promise<number> {
  return Number((await rpc(url, 'eth_blockNumber')).result);
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail('expected a rejection');
}

function listen(port: number): Promise<Server> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok(server));
  });
}

describe('devnet nodes and ports', function () {
  this.timeout(60_000);

  it('refuses a port another node listens on with PORT_IN_USE, and leaves that node as it was', async function () {
    const running = await startAnvil({ chainId: 31337 });
    try {
      await rpc(running.url, 'evm_mine');
      const head = await blockNumber(running.url);
      const e = await rejection(startAnvil({ chainId: 31337, port: running.port }));
      assert.ok(isIsorelayError(e, ErrorCode.PORT_IN_USE), String(e));
      assert.match(e.message, new RegExp(`^port ${running.port} is in use`));
      assert.equal(await blockNumber(running.url), head, 'the running node mined nothing more');
      assert.equal(Number((await rpc(running.url, 'eth_chainId')).result), 31337, 'and still answers');
    } finally {
      await running.stop();
    }
  });

  it('refuses a devnet whose port is taken before it starts a node or touches its directory', async function () {
    const base = await freeBasePort();
    const dir = mkdtempSync(join(tmpdir(), 'isorelay-ports-'));
    writeFileSync(join(dir, 'manifest.json'), '{"the running devnet": true}\n');
    const holder = await listen(base + 11);
    try {
      const e = await rejection(startDevnet({ basePort: base, dir, longRunning: true }));
      assert.ok(isIsorelayError(e, ErrorCode.PORT_IN_USE), String(e));
      assert.equal(e.message, `port ${base + 11} is in use — another devnet running? stop it (Ctrl-C) or pass --port 0 for free ports`);
      assert.deepEqual(e.guidance, [`In use: ${base + 11} (optimism's second RPC endpoint).`, `Nothing was started or changed: ${dir} is as it was.`]);
      assert.equal(readFileSync(join(dir, 'manifest.json'), 'utf8'), '{"the running devnet": true}\n');
      assert.ok(await portIsFree(base), 'no node was started on the first port');
    } finally {
      await new Promise((ok) => holder.close(ok));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('a long-running node', function () {
    let node: AnvilNode;
    before(async function () {
      node = await startAnvil({ chainId: 31337, blockTimeSeconds: LONG_RUNNING_BLOCK_SECONDS, mixedMining: true, ...LONG_RUNNING_HISTORY });
    });
    after(async function () {
      await node?.stop();
    });

    it('mines idle blocks at its block time', async function () {
      const first = await blockNumber(node.url);
      await new Promise((r) => setTimeout(r, 4 * LONG_RUNNING_BLOCK_SECONDS * 1000 + 300));
      const mined = (await blockNumber(node.url)) - first;
      assert.ok(mined >= 3 && mined <= 6, `${mined} blocks in 4 block times`);
    });

    it('answers reads at the recent blocks a new block overtook (no BlockOutOfRangeError)', async function () {
      await rpc(node.url, 'anvil_mine', ['0x10']);
      const head = await blockNumber(node.url);
      // A read resolved to a block that 1 to 7 newer blocks overtook before the node ran it.
      for (const lag of [1, 2, 4, 7]) {
        const answer = await rpc(node.url, 'eth_getBalance', ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', `0x${(head - lag).toString(16)}`]);
        assert.equal(answer.error, undefined, `a read ${lag} blocks behind the head: ${answer.error?.message}`);
      }
    });

    it('keeps a transaction\'s receipt hundreds of blocks later (receipts and logs for hours)', async function () {
      const sent = await rpc(node.url, 'eth_sendTransaction', [{ from: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', to: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', value: '0x1' }]);
      const hash = sent.result as string; // eth_sendTransaction answers the transaction hash
      assert.match(hash, /^0x[0-9a-f]{64}$/, JSON.stringify(sent));
      await rpc(node.url, 'anvil_mine', ['0x1f4']); // 500 blocks: 4 minutes of idle blocks
      const receipt = await rpc(node.url, 'eth_getTransactionReceipt', [hash]);
      assert.equal((receipt.result as { transactionHash?: string } | null)?.transactionHash, hash, 'the receipt is still there');
      assert.ok(LONG_RUNNING_HISTORY.keepTransactionBlocks * LONG_RUNNING_BLOCK_SECONDS >= 3 * 3600, 'hours of transactions are kept');
    });
  });
});
