// The transaction sender (relayer/chains/tx/sender.ts): consecutive nonces under concurrency, the
// signed transaction stored before it is broadcast, stuck transactions replaced with capped fee
// bumps, recovery after a restart, and reverts caught before anything is sent (RELIABILITY.md
// rules 5, 6, 7, 15). Effects are asserted on chain (token balances), not only return values.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Contract, ContractFactory, Interface, Transaction, Wallet, type JsonRpcProvider } from 'ethers';
import { ChainClient, type Receipt } from '../../relayer/chains/client.js';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import { TxRevertedError, TxSender, type TxSenderOptions } from '../../relayer/chains/tx/sender.js';
import type { ChainConfig } from '../../relayer/config/schema.js';
import { DEVNET_ACCOUNTS, devnetProvider, startAnvil, type AnvilNode } from '../../relayer/devnet/anvil.js';
import { ErrorCode, IsorelayError } from '../../relayer/errors/base.js';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import type { TxRecord } from '../../relayer/store/store.js';
import { startFaultyRpc, type FaultyRpc } from '../setup/faultyRpc.js';
import { waitForReceipt } from '../../relayer/chains/provider.js';

const SENDER = DEVNET_ACCOUNTS[3] ?? { address: '', privateKey: '' };
const HOLDER = DEVNET_ACCOUNTS[4]?.address ?? '';
const ERC20_INSUFFICIENT_BALANCE = '0xe450d38c';

function chainConfig(url: string): ChainConfig {
  return {
    chainId: 31337, rpcUrls: [url], finality: { confirmations: 1 }, pollMs: 50, rpcTimeoutMs: 5_000, startBlock: 0,
    maxBlockRange: 100, stuckTxMs: 200, maxFeeMultiplier: 4, lowBalanceEth: 0n,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('TxSender', function () {
  this.timeout(20_000);
  let node: AnvilNode;
  let provider: JsonRpcProvider;
  let token: Contract;
  let tokenAddress: string;
  const iface = new Interface(ourArtifact('TestToken').abi);
  let dir: string;
  let file: string;
  let store: SqliteStore;
  let proxy: FaultyRpc;
  let client: ChainClient;
  let snap: string;

  const rpc = <T>(method: string, params: unknown[] = []): Promise<T> => provider.send(method, params) as Promise<T>;
  const mintReq = (amount: bigint, purpose = 'mint') => ({ to: tokenAddress, data: iface.encodeFunctionData('mint', [HOLDER, amount]), purpose, messages: [`m:${amount}`] });
  const balance = async (): Promise<bigint> => (await token.getFunction('balanceOf').staticCall(HOLDER)) as bigint;
  const chainNonce = async (tag: 'latest' | 'pending' = 'latest') => Number(BigInt(await rpc<string>('eth_getTransactionCount', [SENDER.address, tag])));
  const sender = (o: Partial<TxSenderOptions> = {}) =>
    new TxSender(client, new Wallet(SENDER.privateKey), store, { pollMs: 50, stuckAfterMs: 200, maxFeeMultiplier: 4, ...o });
  /** Every transaction row, read through a second (read-only) connection: what a restart would find. */
  const txRows = (): TxRecord[] => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare('SELECT hash, nonce, raw, status FROM transactions ORDER BY nonce, created_at, rowid').all() as TxRecord[];
    } finally {
      db.close();
    }
  };
  const pendingInPool = async (): Promise<number> => Number(BigInt((await rpc<{ pending: string }>('txpool_status')).pending));

  before(async function () {
    node = await startAnvil({ chainId: 31337 });
    provider = devnetProvider(node);
    const a = ourArtifact('TestToken');
    const deployed = await new ContractFactory(a.abi, a.bytecode, new Wallet(DEVNET_ACCOUNTS[0]?.privateKey ?? '', provider)).deploy('Test', 'TST', 18);
    await waitForReceipt(provider, deployed.deploymentTransaction()?.hash ?? '');
    tokenAddress = await deployed.getAddress();
    token = new Contract(tokenAddress, a.abi, provider);
  });
  after(async function () {
    provider?.destroy();
    await node?.stop();
  });
  beforeEach(async function () {
    snap = await rpc<string>('evm_snapshot');
    dir = mkdtempSync(path.join(tmpdir(), 'isorelay-tx-'));
    file = path.join(dir, 'tx.sqlite');
    store = SqliteStore.open(file);
    proxy = await startFaultyRpc(node.url);
    client = new ChainClient('devnet', chainConfig(proxy.url));
  });
  afterEach(async function () {
    proxy.beforeForward = undefined;
    await proxy.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    await rpc('evm_setAutomine', [true]);
    await rpc('evm_revert', [snap]);
  });

  it('gives parallel submits consecutive nonces and mines them all, each once', async function () {
    const s = sender();
    const n0 = await chainNonce();
    const before = await balance();
    const amounts = [1n, 2n, 3n, 4n, 5n];
    const receipts = await Promise.all(amounts.map((a) => s.submit(mintReq(a))));
    assert.ok(receipts.every((r) => r.status === 1));
    const nonces = await Promise.all(receipts.map(async (r) => (await provider.getTransaction(r.transactionHash))?.nonce));
    assert.deepEqual([...nonces].sort((x, y) => (x ?? 0) - (y ?? 0)), amounts.map((_, i) => n0 + i));
    assert.equal(await chainNonce(), n0 + amounts.length);
    assert.equal(await balance(), before + 15n);
    const rows = txRows();
    assert.equal(rows.length, amounts.length);
    assert.ok(rows.every((r) => r.status === 'mined'));
    assert.deepEqual(await store.pendingTxs('devnet', SENDER.address), []);
  });

  it('stores the signed transaction, as pending, before the node receives it', async function () {
    const s = sender();
    const checked: string[] = [];
    proxy.beforeForward = (calls) => {
      for (const c of calls) {
        if (c.method !== 'eth_sendRawTransaction') continue;
        const raw = (c.params ?? [])[0] as string;
        const hash = Transaction.from(raw).hash ?? '';
        const row = txRows().find((r) => r.hash === hash);
        assert.ok(row !== undefined, 'broadcast before the store held the transaction');
        assert.equal(row.status, 'pending');
        assert.equal(row.raw, raw);
        assert.equal(row.nonce, Transaction.from(raw).nonce);
        checked.push(hash);
      }
      return Promise.resolve();
    };
    const receipts = await Promise.all([s.submit(mintReq(1n)), s.submit(mintReq(2n))]);
    assert.deepEqual(checked.sort(), receipts.map((r) => r.transactionHash).sort());
  });

  it('replaces a stuck transaction with higher fees, and only one of them takes effect', async function () {
    await rpc('evm_setAutomine', [false]);
    const s = sender({ stuckAfterMs: 200, pollMs: 50 });
    const before = await balance();
    const pending = s.submit(mintReq(7n));
    const rows = await until('a replacement', () => {
      const r = txRows();
      return r.length >= 2 ? r : undefined;
    });
    assert.equal(new Set(rows.map((r) => r.nonce)).size, 1, 'a replacement keeps the nonce');
    const [first, second] = rows.map((r) => Transaction.from(r.raw));
    assert.ok(first !== undefined && second !== undefined);
    assert.ok((second.maxFeePerGas ?? 0n) * 100n >= (first.maxFeePerGas ?? 0n) * 110n, 'maxFeePerGas +10 % or more');
    assert.ok((second.maxPriorityFeePerGas ?? 0n) * 100n >= (first.maxPriorityFeePerGas ?? 0n) * 110n, 'tip +10 % or more');
    assert.equal(second.data, first.data);
    await rpc('evm_mine');
    const receipt: Receipt = await pending;
    assert.equal(receipt.status, 1);
    await rpc('evm_mine');
    assert.equal(await pendingInPool(), 0);
    assert.equal(await balance(), before + 7n, 'the mint happened exactly once');
    const final = txRows();
    assert.deepEqual(final.filter((r) => r.status === 'mined').map((r) => r.hash), [receipt.transactionHash]);
    // The others were replaced, or refused by the node (a bump that arrived after the block) and dropped.
    const others = final.filter((r) => r.hash !== receipt.transactionHash);
    assert.ok(others.length >= 1 && others.every((r) => r.status === 'replaced' || r.status === 'dropped'), JSON.stringify(others.map((r) => r.status)));
    assert.deepEqual(await store.pendingTxs('devnet', SENDER.address), []);
  });

  // A race seen on real chains: the original is mined while its replacement is on the way.
  it('does not send a request again when its replacement arrives after the original was mined', async function () {
    await rpc('evm_setAutomine', [false]);
    const s = sender({ stuckAfterMs: 200, pollMs: 50 });
    const before = await balance();
    let raws = 0;
    proxy.beforeForward = async (calls) => {
      // The first replacement: a block (with the original in it) is mined just before it arrives.
      if (calls.some((c) => c.method === 'eth_sendRawTransaction') && ++raws === 2) await rpc('evm_mine');
    };
    const receipt = await s.submit(mintReq(9n));
    assert.equal(receipt.status, 1);
    await rpc('evm_mine');
    await rpc('evm_mine');
    assert.equal(await balance(), before + 9n, 'the mint happened exactly once');
    const mined = await Promise.all(txRows().map(async (r) => ({ ...r, onChain: (await provider.getTransactionReceipt(r.hash)) !== null })));
    for (const r of mined) assert.equal(r.onChain, r.status === 'mined', `${r.hash} is ${r.status} in the store`);
  });

  it('recovers from a broadcast that failed in transit: later transactions are not stuck behind the gap', async function () {
    const s = sender({ stuckAfterMs: 200, pollMs: 50, maxFeeMultiplier: 2 });
    const before = await balance();
    let raws = 0;
    proxy.beforeForward = (calls) => {
      // The first broadcast dies in transit (the proxy answers 502).
      if (calls.some((c) => c.method === 'eth_sendRawTransaction') && ++raws === 1) return Promise.reject(new Error('connection reset'));
      return Promise.resolve();
    };
    const first = await s.submit(mintReq(1n)).then(
      (r) => r,
      (e: unknown) => e,
    );
    if (first instanceof Error) assert.ok(first instanceof IsorelayError && first.retryable, String(first));
    const second = await s.submit(mintReq(2n));
    assert.equal(second.status, 1);
    await until('the pool to drain', async () => ((await pendingInPool()) === 0 ? true : undefined));
    const expected = first instanceof Error ? [2n, 3n] : [3n];
    assert.ok(expected.includes((await balance()) - before), `balance moved by ${(await balance()) - before}`);
  });

  it('stops bumping at the fee cap with a TX_FEE_CAP alert, and keeps working the transaction until it is mined', async function () {
    await rpc('evm_setAutomine', [false]);
    const alerts: string[] = [];
    const s = sender({ stuckAfterMs: 200, pollMs: 50, maxFeeMultiplier: 1.0, onAlert: (a) => alerts.push(`${a.code}: ${a.message}`) });
    const before = await balance();
    let settled = false;
    const pending = s.submit(mintReq(5n)).finally(() => {
      settled = true;
    });
    await until('the fee-cap alert', () => (alerts.length > 0 ? true : undefined));
    assert.match(alerts[0] ?? '', /^TX_FEE_CAP: devnet: mint is stuck at the fee cap \(nonce \d+\)/);
    assert.deepEqual(s.state().atFeeCap.length, 1, 'readiness can see it');
    await sleep(600);
    assert.equal(settled, false, 'the submit is still being worked, not given up');
    const rows = txRows();
    assert.equal(rows.length, 1, 'no replacement above the cap');
    assert.equal(rows[0]?.status, 'pending');
    await rpc('evm_mine');
    await rpc('evm_setAutomine', [true]);
    assert.equal((await pending).status, 1);
    assert.equal(await balance(), before + 5n);
    assert.equal(txRows()[0]?.status, 'mined');
    assert.equal(alerts.length, 1, 'one alert per transaction');
    assert.deepEqual(s.state().atFeeCap, []);
  });

  it('sends again a transaction the node never received (the proxy failed it without forwarding): later nonces are not stuck', async function () {
    const s = sender({ stuckAfterMs: 10_000, pollMs: 50, rebroadcastMs: 200 });
    const before = await balance();
    let raws = 0;
    proxy.beforeForward = (calls) => {
      if (calls.some((c) => c.method === 'eth_sendRawTransaction') && ++raws === 1) return Promise.reject(new Error('connection reset'));
      return Promise.resolve();
    };
    const started = Date.now();
    const receipts = await Promise.all([s.submit(mintReq(1n)), s.submit(mintReq(2n)), s.submit(mintReq(4n))]);
    assert.deepEqual(receipts.map((r) => r.status), [1, 1, 1]);
    // Sent again as soon as the node is seen not to know it, not only when it counts as stuck (10 s here).
    assert.ok(Date.now() - started < 3_000, `the gap was filled in ${Date.now() - started} ms`);
    assert.equal(await balance(), before + 7n, 'each mint once');
    assert.equal(await pendingInPool(), 0);
  });

  it('keeps waiting through receipt polls that fail, and through an answer lost after the node took the transaction', async function () {
    const s = sender({ stuckAfterMs: 10_000, pollMs: 50, rebroadcastMs: 200 });
    const before = await balance();
    let receiptPolls = 0;
    let raws = 0;
    proxy.beforeForward = async (calls) => {
      // The send reaches the node, but its answer is lost; then the first receipt polls fail.
      if (calls.some((c) => c.method === 'eth_sendRawTransaction') && ++raws === 1) {
        await provider.send('eth_sendRawTransaction', calls.find((c) => c.method === 'eth_sendRawTransaction')?.params ?? []);
        throw new Error('connection reset after forwarding');
      }
      if (calls.some((c) => c.method === 'eth_getTransactionReceipt') && ++receiptPolls <= 5) throw new Error('502');
    };
    const r = await s.submit(mintReq(3n));
    assert.equal(r.status, 1);
    assert.equal(await balance(), before + 3n);
    assert.ok(receiptPolls > 5, 'the failed polls did not end the wait');
  });

  it('recover() broadcasts a stored transaction that never reached the node, then continues after it', async function () {
    const n0 = await chainNonce();
    const before = await balance();
    const wallet = new Wallet(SENDER.privateKey);
    const raw = await wallet.signTransaction(
      Transaction.from({ type: 2, chainId: 31337, nonce: n0, to: tokenAddress, data: mintReq(11n).data, gasLimit: 200_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n }),
    );
    const hash = Transaction.from(raw).hash ?? '';
    await store.recordTx({ chain: 'devnet', sender: SENDER.address, nonce: n0, hash, raw, purpose: 'mint', messages: 'm:11', status: 'pending', createdAt: Date.now() });
    const s = sender();
    await s.recover();
    assert.ok(proxy.methods.includes('eth_sendRawTransaction'));
    assert.ok((await provider.getTransactionReceipt(hash)) !== null, 'mined');
    assert.equal(await balance(), before + 11n);
    // The next submit takes the following nonce, and the recovered one is then marked.
    const r = await s.submit(mintReq(1n));
    assert.equal((await provider.getTransaction(r.transactionHash))?.nonce, n0 + 1);
    await sender().recover();
    assert.deepEqual(txRows().map((t) => [t.nonce, t.status]), [[n0, 'mined'], [n0 + 1, 'mined']]);
    assert.equal(await balance(), before + 12n);
  });

  it('reconcile() sends again, without a restart, a stored transaction nothing waits for, then marks it mined', async function () {
    const s = sender();
    await s.submit(mintReq(1n)); // the sender is running (its nonce is known)
    const n0 = await chainNonce();
    const before = await balance();
    const raw = await new Wallet(SENDER.privateKey).signTransaction(
      Transaction.from({ type: 2, chainId: 31337, nonce: n0, to: tokenAddress, data: mintReq(13n).data, gasLimit: 200_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n }),
    );
    const hash = Transaction.from(raw).hash ?? '';
    // A transaction stored for this nonce whose submit gave up before the node ever got it: a gap.
    await store.recordTx({ chain: 'devnet', sender: SENDER.address, nonce: n0, hash, raw, purpose: 'mint', messages: 'm:13', status: 'pending', createdAt: Date.now() - 60_000 });
    assert.equal(await s.reconcile(), 1, 'sent again');
    await until('it is mined', async () => ((await provider.getTransactionReceipt(hash)) !== null ? true : undefined));
    assert.equal(await balance(), before + 13n);
    assert.equal(await s.reconcile(), 0);
    assert.equal(txRows().find((t) => t.hash === hash)?.status, 'mined');
  });

  it('recover() marks a stored transaction whose nonce was used by another one as replaced, without sending it', async function () {
    const n0 = await chainNonce();
    const wallet = new Wallet(SENDER.privateKey);
    const sign = (amount: bigint, fee: bigint) =>
      wallet.signTransaction(Transaction.from({ type: 2, chainId: 31337, nonce: n0, to: tokenAddress, data: mintReq(amount).data, gasLimit: 200_000n, maxFeePerGas: fee, maxPriorityFeePerGas: 10n ** 9n }));
    const lost = await sign(13n, 10n ** 10n);
    const lostHash = Transaction.from(lost).hash ?? '';
    await store.recordTx({ chain: 'devnet', sender: SENDER.address, nonce: n0, hash: lostHash, raw: lost, purpose: 'mint', messages: 'm:13', status: 'pending', createdAt: Date.now() });
    await rpc('eth_sendRawTransaction', [await sign(14n, 2n * 10n ** 10n)]); // the replacement that won
    const before = await balance();
    await sender().recover();
    assert.equal(txRows()[0]?.status, 'replaced');
    assert.ok(!proxy.methods.includes('eth_sendRawTransaction'));
    assert.equal(await balance(), before);
  });

  it('takes a node that cannot run the simulation (a lost state, its own error) for a passing RPC failure, not a revert', async function () {
    const s = sender();
    // anvil without old states answers this when a block lands during an eth_call at latest;
    // other nodes say "header not found" or "missing trie node".
    let refusals = 0;
    proxy.answerError = (method) => (method === 'eth_call' || method === 'eth_estimateGas') && refusals++ < 1
      ? { code: -32602, message: 'BlockOutOfRangeError: block height is 270 but requested was 269' }
      : undefined;
    const e = await s.submit(mintReq(1n)).then(
      () => assert.fail('the first simulation failed'),
      (err: unknown) => err,
    );
    assert.ok(!(e instanceof TxRevertedError), `a node's trouble is not a revert: ${String(e)}`);
    assert.ok(e instanceof IsorelayError && e.code === ErrorCode.RPC_BAD_RESPONSE && e.retryable, String(e));
    assert.ok(!proxy.methods.includes('eth_sendRawTransaction'), 'nothing was broadcast');
    // The same request goes through once the node can run it again, at the nonce it would have had.
    const r = await s.submit(mintReq(1n));
    assert.equal(r.status, 1);
    // A real revert answered with code 3 stays a revert.
    proxy.answerError = (method) => (method === 'eth_call' || method === 'eth_estimateGas') ? { code: 3, message: 'execution reverted', data: ERC20_INSUFFICIENT_BALANCE + '00'.repeat(96) } : undefined;
    const revert = await s.submit(mintReq(2n)).then(() => assert.fail('reverted'), (err: unknown) => err);
    assert.ok(revert instanceof TxRevertedError, String(revert));
    proxy.answerError = undefined;
  });

  it('throws TxRevertedError with the revert data before sending anything, and keeps the nonce', async function () {
    const s = sender();
    const n0 = await chainNonce('pending');
    const req = { to: tokenAddress, data: iface.encodeFunctionData('transfer', [HOLDER, 1n]), purpose: 'transfer', messages: [] };
    const e = await s.submit(req).then(
      () => assert.fail('a transfer without balance must revert'),
      (err: unknown) => err,
    );
    assert.ok(e instanceof TxRevertedError, String(e));
    assert.equal(e.code, ErrorCode.TX_REVERTED);
    assert.equal(e.retryable, false);
    assert.equal(e.purpose, 'transfer');
    assert.ok(e.revertData?.startsWith(ERC20_INSUFFICIENT_BALANCE), `revert data ${e.revertData}`);
    assert.ok(!proxy.methods.includes('eth_sendRawTransaction'), 'nothing was broadcast');
    assert.deepEqual(txRows(), [], 'nothing was recorded');
    assert.equal(await chainNonce('pending'), n0);
    // No gap: the next transaction takes the nonce the reverted one would have had.
    const r = await s.submit(mintReq(1n));
    assert.equal((await provider.getTransaction(r.transactionHash))?.nonce, n0);
  });
});
