// The sender under a lost lease (issue 11): an instance paused between the lease check and the
// broadcast, or while its transaction waits, or restarted with transactions of work it no longer
// holds, never puts that call on chain: a self-transfer takes the nonce instead (no gap), and the
// submit ends with LEASE_LOST. And the machinery of that (cancels, reconcile) must not cost more
// than it saves: cancels are priced like replacements (capped), reconcile never takes a live
// transaction for an orphan, and a nonce nothing stored holds is filled. Effects are read on chain.
import assert from 'node:assert/strict';
import { Contract, ContractFactory, Interface, Transaction, Wallet, type JsonRpcProvider } from 'ethers';
import { ChainClient } from '../../relayer/chains/client.js';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import { waitForReceipt } from '../../relayer/chains/provider.js';
import { TxSender, type TxSenderOptions } from '../../relayer/chains/tx/sender.js';
import type { ChainConfig } from '../../relayer/config/schema.js';
import { DEVNET_ACCOUNTS, devnetProvider, startAnvil, type AnvilNode } from '../../relayer/devnet/anvil.js';
import { ErrorCode, IsorelayError } from '../../relayer/errors/base.js';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import { startFaultyRpc } from '../setup/faultyRpc.js';

const SENDER = DEVNET_ACCOUNTS[5] ?? { address: '', privateKey: '' };
const HOLDER = DEVNET_ACCOUNTS[6]?.address ?? '';
const isLeaseLost = (e: unknown) => e instanceof IsorelayError && e.code === ErrorCode.LEASE_LOST;

function chainConfig(url: string): ChainConfig {
  return { chainId: 31337, rpcUrls: [url], finality: { confirmations: 1 }, pollMs: 50, rpcTimeoutMs: 5_000, startBlock: 0, maxBlockRange: 100, stuckTxMs: 200, maxFeeMultiplier: 4, lowBalanceEth: 0n };
}

describe('TxSender under a lost lease', function () {
  this.timeout(30_000);
  let node: AnvilNode;
  let provider: JsonRpcProvider;
  let token: Contract;
  let store: SqliteStore;
  let client: ChainClient;
  let snap: string;
  const iface = new Interface(ourArtifact('TestToken').abi);
  const rpc = <T>(method: string, params: unknown[] = []) => provider.send(method, params) as Promise<T>;
  const mint = (amount: bigint) => ({ to: token.target as string, data: iface.encodeFunctionData('mint', [HOLDER, amount]), purpose: 'mint', messages: [`m:${amount}`] });
  const balance = async () => (await token.getFunction('balanceOf').staticCall(HOLDER)) as bigint;
  const nonce = async () => Number(BigInt(await rpc<string>('eth_getTransactionCount', [SENDER.address, 'latest'])));
  const sender = (o: Partial<TxSenderOptions>) => new TxSender(client, new Wallet(SENDER.privateKey), store, { pollMs: 50, stuckAfterMs: 60_000, maxFeeMultiplier: 4, guard: () => Promise.resolve(), ...o });

  before(async function () {
    node = await startAnvil({ chainId: 31337 });
    provider = devnetProvider(node);
    const a = ourArtifact('TestToken');
    const deployed = await new ContractFactory(a.abi, a.bytecode, new Wallet(DEVNET_ACCOUNTS[0]?.privateKey ?? '', provider)).deploy('Test', 'TST', 18);
    await waitForReceipt(provider, deployed.deploymentTransaction()?.hash ?? '');
    token = new Contract(await deployed.getAddress(), a.abi, provider);
    client = new ChainClient('devnet', chainConfig(node.url));
  });
  after(async function () {
    provider?.destroy();
    await node?.stop();
  });
  beforeEach(async function () {
    snap = await rpc<string>('evm_snapshot');
    store = SqliteStore.open(':memory:');
  });
  afterEach(async function () {
    await store.close();
    await rpc('evm_setAutomine', [true]);
    await rpc('evm_revert', [snap]);
  });

  it('paused between the lease check and the broadcast: the call never goes out, a self-transfer takes its nonce', async function () {
    const before = await balance();
    const n0 = await nonce();
    // The guard passed (the lease was held), then the process "slept": by the time it would broadcast, the lease is gone.
    let held = false;
    const s = sender({ stillHeld: () => held });
    await assert.rejects(s.submit(mint(7n)), isLeaseLost);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await balance(), before, 'the mint never ran');
    assert.equal(await nonce(), n0 + 1, 'its nonce was taken (by the self-transfer): no gap for the next one');
    held = true;
    const r = await s.submit({ ...mint(1n) });
    assert.equal(r.status, 1);
  });

  it('lost while waiting for the receipt: the pending call is replaced by a self-transfer before it is mined', async function () {
    await rpc('evm_setAutomine', [false]);
    const before = await balance();
    const n0 = await nonce();
    let held = true;
    const s = sender({ stillHeld: () => held });
    const submitting = s.submit(mint(9n));
    // The call is in the pool (not mined); then the lease runs out.
    for (let i = 0; i < 100 && Number(BigInt((await rpc<{ pending: string }>('txpool_status')).pending)) === 0; i++) await new Promise((r) => setTimeout(r, 20));
    held = false;
    await new Promise((r) => setTimeout(r, 300));
    await rpc('evm_mine');
    await assert.rejects(submitting, isLeaseLost);
    assert.equal(await balance(), before, 'the replaced call never ran');
    assert.equal(await nonce(), n0 + 1);
  });

  it('prices its cancels like replacements: capped, with a fee-cap alert, not raised without end', async function () {
    await rpc('evm_setAutomine', [false]);
    const alerts: string[] = [];
    let held = true;
    // stuckAfterMs small: the cancel is "stuck" (not mined) and replaced again and again.
    const s = sender({ stillHeld: () => held, stuckAfterMs: 20, maxFeeMultiplier: 2, onAlert: (a) => alerts.push(a.code) });
    const submitting = s.submit(mint(3n));
    for (let i = 0; i < 100 && (await store.pendingTxs('devnet', SENDER.address)).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    held = false;
    await new Promise((r) => setTimeout(r, 1_500));
    const versions = await store.pendingTxs('devnet', SENDER.address);
    const fees = versions.map((v) => Transaction.from(v.raw).maxFeePerGas ?? 0n);
    const first = fees[0] ?? 0n;
    assert.ok(fees.every((f) => f <= first * 2n), `no version above the cap: ${fees.join(', ')}`);
    assert.ok(versions.length <= 8, `a handful of versions, not one per poll: ${versions.length}`);
    assert.ok(alerts.includes('TX_FEE_CAP'), 'the cap raised an alert');
    await rpc('evm_setAutomine', [true]);
    await rpc('evm_mine');
    await assert.rejects(submitting, isLeaseLost);
  });

  it('fills a nonce that nothing stored holds (a send that failed before it was recorded): later ones are not stuck behind it', async function () {
    const s = sender({});
    await s.submit(mint(1n));
    // A nonce was taken and its transaction never recorded nor sent.
    (s as unknown as { nextNonce: number }).nextNonce += 1;
    const before = await balance();
    const later = s.submit(mint(2n));
    const stuck = await Promise.race([later.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 700))]);
    assert.ok(stuck, 'behind the gap');
    await new Promise((r) => setTimeout(r, 600));
    assert.ok((await s.reconcile()) >= 1, 'the gap was filled');
    const receipt = await later;
    assert.equal(receipt.status, 1);
    assert.equal(await balance(), before + 2n);
  });

  it('reconcile() running while a submit is being broadcast does not take it for an orphan', async function () {
    const proxy = await startFaultyRpc(node.url);
    try {
      client = new ChainClient('devnet', chainConfig(proxy.url));
      const s = sender({});
      await s.submit(mint(1n));
      const before = await balance();
      // The broadcast takes a while (a slow node): the call is recorded, not yet out.
      proxy.beforeForward = async (calls) => {
        if (calls.some((c) => c.method === 'eth_sendRawTransaction')) await new Promise((r) => setTimeout(r, 900));
      };
      const submitting = s.submit(mint(4n));
      await new Promise((r) => setTimeout(r, 700));
      await s.reconcile();
      proxy.beforeForward = undefined;
      const receipt = await submitting;
      assert.equal(receipt.status, 1);
      assert.equal(await balance(), before + 4n, 'the call ran: it was not cancelled');
    } finally {
      client = new ChainClient('devnet', chainConfig(node.url));
      await proxy.close();
    }
  });

  it('after a restart, a stored transaction nothing holds any more is cancelled, not sent again', async function () {
    await rpc('evm_setAutomine', [false]);
    const before = await balance();
    const n0 = await nonce();
    // An instance signs and stores a call, then dies before the node has it (the pool is dropped).
    const first = sender({});
    void first.submit(mint(5n)).catch(() => undefined);
    for (let i = 0; i < 100 && (await store.pendingTxs('devnet', SENDER.address)).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    first.close();
    await rpc('anvil_dropAllTransactions');
    await rpc('evm_setAutomine', [true]);
    // The restarted instance (its work was taken over meanwhile) finds it.
    const restarted = sender({});
    await restarted.recover();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await balance(), before, 'the stored call was not sent again');
    assert.equal(await nonce(), n0 + 1, 'its nonce was taken by the self-transfer');
    // Reconcile settles only what is older than a rebroadcast interval (a submit may be about to register it).
    await new Promise((r) => setTimeout(r, 600));
    await restarted.reconcile();
    assert.deepEqual((await store.pendingTxs('devnet', SENDER.address)).filter((p) => p.purpose !== 'cancel'), []);
  });
});
