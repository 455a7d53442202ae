// The log scanner (relayer/chains/scanner.ts): walks the chain in adaptive ranges, sees every
// log exactly once, narrows when a node refuses a range, never advances past what a lagging node
// could not show, and on a reorg rewinds to the common ancestor (RELIABILITY.md rules 2, 4, 8, 15).
import assert from 'node:assert/strict';
import { Contract, ContractFactory, id as topicId, Wallet, type JsonRpcProvider } from 'ethers';
import { ChainClient, type Log } from '../../relayer/chains/client.js';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import { RpcResponseError } from '../../relayer/chains/rpc.js';
import { LogScanner, type ScanResult } from '../../relayer/chains/scanner.js';
import type { ChainConfig } from '../../relayer/config/schema.js';
import { DEVNET_ACCOUNTS, devnetProvider, startAnvil, type AnvilNode } from '../../relayer/devnet/anvil.js';
import { ErrorCode, IsorelayError } from '../../relayer/errors/base.js';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import { startFaultyRpc, type FaultyRpc } from '../setup/faultyRpc.js';
import { waitForReceipt } from '../../relayer/chains/provider.js';

const TRANSFER = topicId('Transfer(address,address,uint256)');
const STREAM = 'devnet:test';

function chainConfig(url: string): ChainConfig {
  return {
    chainId: 31337, rpcUrls: [url], finality: { confirmations: 1 }, pollMs: 50, rpcTimeoutMs: 5_000, startBlock: 0,
    maxBlockRange: 5, stuckTxMs: 1_000, maxFeeMultiplier: 4, lowBalanceEth: 0n,
  };
}

const amountOf = (l: Log): bigint => BigInt(l.data);
const key = (l: Log): string => `${l.transactionHash}:${l.logIndex}`;

describe('LogScanner', function () {
  this.timeout(20_000);
  let node: AnvilNode;
  let provider: JsonRpcProvider;
  let token: Contract;
  let tokenAddress: string;
  let startBlock: bigint;
  let direct: ChainClient;
  let store: SqliteStore;
  let proxy: FaultyRpc;
  const holder = DEVNET_ACCOUNTS[1]?.address ?? '';

  async function mint(amount: bigint): Promise<void> {
    const tx = await token.getFunction('mint').send(holder, amount);
    await waitForReceipt(provider, tx.hash);
  }
  async function mine(n: number): Promise<void> {
    for (let i = 0; i < n; i++) await provider.send('evm_mine', []);
  }

  /** Polls until idle; a refused range (RpcResponseError) is retried, as the watcher does. */
  async function scanToHead(scanner: LogScanner, client: ChainClient, results: ScanResult[] = []): Promise<ScanResult[]> {
    const head = await client.blockNumber();
    for (let i = 0; i < 500; i++) {
      let r: ScanResult;
      try {
        r = await scanner.poll(head, 0n);
      } catch (e) {
        if (e instanceof RpcResponseError) continue;
        throw e;
      }
      if (r.kind === 'idle') return results;
      results.push(r);
    }
    throw new Error('the scanner did not reach the head');
  }

  function scanner(client: ChainClient, seen: Log[], reorgs: bigint[] = [], maxRange = 5n): LogScanner {
    return new LogScanner(client, store, {
      stream: STREAM,
      filter: { address: tokenAddress, topics: [TRANSFER] },
      startBlock,
      maxRange,
      onLogs: (_tx, logs) => {
        seen.push(...logs);
        return Promise.resolve();
      },
      onReorg: (_tx, ancestor) => {
        reorgs.push(ancestor);
        return Promise.resolve();
      },
    });
  }

  before(async function () {
    node = await startAnvil({ chainId: 31337 });
    provider = devnetProvider(node);
    const wallet = new Wallet(DEVNET_ACCOUNTS[0]?.privateKey ?? '', provider);
    const a = ourArtifact('TestToken');
    const deployed = await new ContractFactory(a.abi, a.bytecode, wallet).deploy('Test', 'TST', 18);
    await waitForReceipt(provider, deployed.deploymentTransaction()?.hash ?? '');
    tokenAddress = await deployed.getAddress();
    token = new Contract(tokenAddress, a.abi, wallet);
    startBlock = BigInt(await provider.getBlockNumber()) + 1n;
    direct = new ChainClient('devnet', chainConfig(node.url));
  });
  after(async function () {
    provider?.destroy();
    await node?.stop();
  });
  beforeEach(async function () {
    store = SqliteStore.open(':memory:');
    proxy = await startFaultyRpc(node.url);
  });
  afterEach(async function () {
    await store.close();
    await proxy.close();
  });

  it('walks the chain in ranges of at most maxRange and sees every log exactly once', async function () {
    const amounts = [1n, 2n, 3n, 4n, 5n, 6n];
    for (const a of amounts) {
      await mint(a);
      await mine(2);
    }
    const head = await direct.blockNumber();
    const seen: Log[] = [];
    const s = scanner(direct, seen);
    const results = await scanToHead(s, direct);
    assert.equal(await s.checkpoint(), head);
    assert.equal(await store.getCheckpoint(STREAM), head);
    const ranges = results.filter((r) => r.kind === 'logs');
    assert.ok(ranges.length >= Number((head - startBlock + 1n + 4n) / 5n), 'several ranges');
    let next = startBlock;
    for (const r of ranges) {
      assert.equal(r.from, next, 'ranges are contiguous');
      assert.ok(r.to - r.from + 1n <= 5n, `range ${r.from}-${r.to} is wider than maxRange`);
      next = r.to + 1n;
    }
    assert.deepEqual(seen.map(amountOf), amounts);
    assert.equal(new Set(seen.map(key)).size, seen.length, 'no log twice');
    // The same logs as one direct query of the whole range.
    const all = await direct.logsWithBounds({ address: tokenAddress, topics: [TRANSFER] }, startBlock, head);
    assert.deepEqual(seen.map(key), all.logs.map(key));
    // Polling again at the head is idle and repeats nothing.
    assert.deepEqual(await s.poll(head, 0n), { kind: 'idle' });
    assert.equal(seen.length, amounts.length);
  });

  it('narrows its range when a node refuses it and still sees every log', async function () {
    proxy.setMode('limitLogs', { maxLogRange: 2n });
    const limited = new ChainClient('devnet', chainConfig(proxy.url));
    const seen: Log[] = [];
    const s = scanner(limited, seen, [], 8n);
    const head = await direct.blockNumber();
    const before = proxy.methods.filter((m) => m === 'eth_getLogs').length;
    const results = await scanToHead(s, limited);
    assert.equal(await s.checkpoint(), head);
    for (const r of results) if (r.kind === 'logs') assert.ok(r.to - r.from + 1n <= 2n, `range ${r.from}-${r.to} was answered by a node that refuses > 2`);
    const refused = proxy.methods.filter((m) => m === 'eth_getLogs').length - before - results.length;
    assert.ok(refused > 0, 'the node refused some ranges');
    const all = await direct.logsWithBounds({ address: tokenAddress, topics: [TRANSFER] }, startBlock, head);
    assert.ok(all.logs.length > 0);
    assert.deepEqual(seen.map(key), all.logs.map(key));
  });

  it('does not advance past what a lagging node cannot show', async function () {
    const seen: Log[] = [];
    const s = scanner(direct, seen);
    await scanToHead(s, direct);
    const checkpoint = await s.checkpoint();
    await mint(77n);
    await mine(1);
    const head = await direct.blockNumber();
    proxy.setMode('staleHead', { staleBlock: checkpoint });
    const lagging = new ChainClient('devnet', chainConfig(proxy.url));
    const lagScanner = scanner(lagging, seen);
    await assert.rejects(lagScanner.poll(head, 0n), (e: unknown) => e instanceof IsorelayError && e.code === ErrorCode.RPC_BAD_RESPONSE);
    assert.equal(await s.checkpoint(), checkpoint, 'the checkpoint did not move');
    assert.ok(!seen.some((l) => amountOf(l) === 77n));
    // Once a node that has the blocks answers, the log is found.
    await scanToHead(s, direct);
    assert.equal(await s.checkpoint(), head);
    assert.equal(seen.filter((l) => amountOf(l) === 77n).length, 1);
  });

  it('takes a node whose head is behind the checkpoint for a lagging node, not for a reorg (nothing rewound, no incident)', async function () {
    const seen: Log[] = [];
    const reorgs: bigint[] = [];
    const s = scanner(direct, seen, reorgs);
    await mint(5n);
    await mine(25);
    await scanToHead(s, direct);
    const checkpoint = await s.checkpoint();
    proxy.setMode('staleHead', { staleBlock: checkpoint - 20n });
    const lagging = new ChainClient('devnet', chainConfig(proxy.url));
    const onLagging = scanner(lagging, seen, reorgs);
    // The stale node says its head is 20 blocks back, and it lacks the checkpoint's block.
    const r = await onLagging.poll(checkpoint - 20n, checkpoint - 22n);
    assert.deepEqual(r, { kind: 'idle' });
    assert.deepEqual(reorgs, [], 'no reorg');
    assert.equal(await onLagging.checkpoint(), checkpoint, 'nothing rewound');
  });

  for (const shape of ['longer', 'shorter'] as const) {
    it(`detects a reorg onto a ${shape} chain, rewinds to the ancestor and rescans the new chain only`, async function () {
      const seen: Log[] = [];
      const reorgs: bigint[] = [];
      const s = scanner(direct, seen, reorgs);
      await scanToHead(s, direct);
      const ancestor = await s.checkpoint();
      const snap = (await provider.send('evm_snapshot', [])) as string;
      await mint(1000n);
      await mine(1);
      await mint(2000n);
      await scanToHead(s, direct);
      const oldTip = await s.checkpoint();
      assert.ok(seen.some((l) => amountOf(l) === 1000n) && seen.some((l) => amountOf(l) === 2000n));
      const orphanedKeys = new Set(seen.filter((l) => amountOf(l) >= 1000n).map(key));

      assert.equal(await provider.send('evm_revert', [snap]), true);
      await mint(3000n);
      if (shape === 'longer') await mine(6);
      const head = await direct.blockNumber();
      assert.ok(shape === 'longer' ? head > oldTip : head < oldTip);

      const seenBefore = seen.length;
      const first = await s.poll(head, 0n);
      assert.deepEqual(first, { kind: 'reorg', ancestor, depth: oldTip - ancestor });
      assert.deepEqual(reorgs, [ancestor]);
      assert.equal(await s.checkpoint(), ancestor);
      assert.equal(await store.blockHash(STREAM, oldTip), undefined, 'hashes of the dropped chain are forgotten');

      await scanToHead(s, direct);
      assert.equal(await s.checkpoint(), head);
      const rescanned = seen.slice(seenBefore);
      assert.deepEqual(rescanned.map(amountOf), [3000n], 'only the new chain\'s log');
      assert.ok(!rescanned.some((l) => orphanedKeys.has(key(l))));
      const block = await direct.block(head);
      assert.equal(await store.blockHash(STREAM, head), block?.hash);
      assert.deepEqual(reorgs, [ancestor], 'one reorg, handled once');
    });
  }

  it('refuses a reorg below the finalized block with REORG_BEYOND_FINALITY', async function () {
    const seen: Log[] = [];
    const reorgs: bigint[] = [];
    const s = scanner(direct, seen, reorgs);
    const snap = (await provider.send('evm_snapshot', [])) as string;
    await mint(5n);
    await mine(2);
    await scanToHead(s, direct);
    const tip = await s.checkpoint();
    await provider.send('evm_revert', [snap]);
    await mint(6n);
    await mine(4);
    const head = await direct.blockNumber();
    // The policy had called everything up to the old tip final.
    await assert.rejects(s.poll(head, tip), (e: unknown) => e instanceof IsorelayError && e.code === ErrorCode.REORG_BEYOND_FINALITY);
    assert.equal(await s.checkpoint(), tip, 'nothing was rewound');
    assert.deepEqual(reorgs, []);
  });
});
