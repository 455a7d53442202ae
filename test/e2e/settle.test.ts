// The return path end to end: the engine's RELEASE and SEIZE travel back to the vault holding the
// collateral (arbitrum over LayerZero, optimism over Wormhole) and the vault executes each once.
import assert from 'node:assert/strict';
import { Contract, hexlify, Interface, Wallet, ZeroHash } from 'ethers';
import { signVaa } from '../../relayer/devnet/guardian.js';
import { encodeMessage, MESSAGE_VERSION, MessageKind } from '../../relayer/messages/codec.js';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import { waitForReceipt } from '../../relayer/chains/provider.js';
import { asAdmin, engine, lock, makeRelayer, provider, tickUntil, trader, useSharedDevnet } from '../setup/devnet.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { FEES, sendQueuedSettlements } from '../setup/engineCalls.js';

const erc20 = (m: DevnetManifest, chain: string, token: string) => new Contract(token, ourArtifact('TestToken').abi, provider(m, chain));
const vaultOf = (m: DevnetManifest, chain: string) => new Contract(m.chains[chain]?.contracts.vault as string, ourArtifact('CollateralVault').abi, provider(m, chain));

async function send(m: DevnetManifest, c: Contract, method: string, args: unknown[]): Promise<void> {
  const tx = await c.getFunction(method).send(...args);
  const r = await waitForReceipt(provider(m, 'base'), tx.hash);
  assert.equal(r.status, 1, `${method} reverted`);
}

describe('settlement back to the source vault', function () {
  this.timeout(120_000);
  const devnet = useSharedDevnet();

  for (const chain of ['arbitrum', 'optimism'] as const) {
    it(`releases a closed position's collateral to the trader on ${chain}, once`, async () => {
      const m = devnet().manifest;
      const { relayer, store } = makeRelayer(m);
      const usdc = m.chains[chain]?.contracts.usdc as string;
      const t = trader(m, chain, 0);
      const before = (await erc20(m, chain, usdc).getFunction('balanceOf')(t.address)) as bigint;
      await lock(m, chain, { amount: 5_000_000n, positionId: 3n });
      await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 1);
      assert.equal((await erc20(m, chain, usdc).getFunction('balanceOf')(t.address)) as bigint, before - 5_000_000n);

      await send(m, engine(m, new Wallet(t.privateKey, provider(m, 'base'))), 'close', [3n, FEES]);
      await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 2);
      for (let i = 0; i < 5; i++) await relayer.tick();

      const back = (await store.list({})).find((r) => r.route === `base-${chain}`);
      assert.equal(back?.kind, 'RELEASE');
      assert.equal(back?.status, 'delivered');
      assert.equal((await erc20(m, chain, usdc).getFunction('balanceOf')(t.address)) as bigint, before, 'all collateral back');
      assert.equal((await vaultOf(m, chain).getFunction('outstanding')(usdc)) as bigint, 0n);
      const executed = await vaultOf(m, chain).queryFilter('SettlementExecuted', 0, 'latest');
      assert.equal(executed.length, 1, 'executed once');
      await store.close();
    });
  }

  for (const chain of ['arbitrum', 'optimism'] as const) {
    it(`refunds on ${chain} a CREDIT of a token the engine does not accept: the lock comes back, never stranded`, async () => {
      const m = devnet().manifest;
      const { relayer, store } = makeRelayer(m);
      const weth = m.chains[chain]?.contracts.weth as string;
      await asAdmin(m, 'setCollateral', [BigInt(m.chains[chain]?.chainId ?? 0), weth, 18, false, false]);
      const t = trader(m, chain, 0);
      const before = (await erc20(m, chain, weth).getFunction('balanceOf')(t.address)) as bigint;
      const l = await lock(m, chain, { amount: 10n ** 18n, positionId: 4n, asset: 'weth' });
      await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 1);
      // Nobody pays a fee inside a credit: the refund is queued, and the trader (or anyone) sends it.
      assert.equal((await store.list({})).length, 1, 'nothing sent back yet');
      const sent = await sendQueuedSettlements(m, engine(m, new Wallet(trader(m, 'base', 0).privateKey, provider(m, 'base'))));
      assert.equal(sent.length, 1);
      await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 2);

      const refunded = await engine(m).queryFilter('CreditRefunded', 0, 'latest');
      assert.equal(refunded.length, 1);
      assert.equal((refunded[0] as unknown as { args: unknown[] }).args[0], l.lockId);
      const [credit, refund] = [(await store.list({})).find((r) => r.kind === 'CREDIT'), (await store.list({})).find((r) => r.kind === 'RELEASE')];
      assert.equal(credit?.status, 'delivered', 'the engine took the CREDIT (and refunded it) instead of refusing it for good');
      assert.equal(refund?.status, 'delivered');
      assert.equal((await erc20(m, chain, weth).getFunction('balanceOf')(t.address)) as bigint, before, 'the trader has the tokens back');
      assert.equal((await vaultOf(m, chain).getFunction('outstanding')(weth)) as bigint, 0n);
      assert.equal(await engine(m).getFunction('processed')(l.lockId), true, 'the lock cannot be credited again');
      await store.close();
    });
  }

  it('refuses on the vault a RELEASE that names another vault or chain, even signed by the guardians from the engine', async () => {
    const m = devnet().manifest;
    const engineAddress = m.chains.base?.contracts.engine as string;
    const vault = m.chains.optimism?.contracts.vault as string;
    const release = (target: string, targetChainId: bigint) => signVaa({
      timestamp: Math.floor(Date.now() / 1000), nonce: 24, emitterChain: 30, emitterAddress: engineAddress, sequence: 777n, consistencyLevel: 1,
      payload: encodeMessage({
        version: MESSAGE_VERSION, kind: MessageKind.RELEASE, originChainId: 8453n, origin: engineAddress, nonce: 777n, trader: m.accounts.traders[1]?.address as string,
        positionId: 1n, token: m.chains.optimism?.contracts.usdc as string, amount: 1n, targetChainId, target, market: ZeroHash, price: 0n,
      }),
      guardianKeys: m.accounts.guardians.map((g) => g.privateKey),
    });
    const iface = new Interface(ourArtifact('CollateralVault').abi);
    const refusal = async (vaa: Uint8Array): Promise<string> => {
      try {
        await vaultOf(m, 'optimism').getFunction('receiveWormholeMessage').staticCall(hexlify(vaa));
        return 'accepted';
      } catch (e) {
        const parsed = iface.parseError((e as { data?: string }).data ?? '0x');
        return parsed === null ? 'unknown' : `${parsed.name}(${parsed.args.map(String).join(',')})`;
      }
    };
    const other = Wallet.createRandom().address;
    assert.equal(await refusal(release(other, 10n)), `NotForThisVault(10,${other})`);
    assert.equal(await refusal(release(vault, 42161n)), `NotForThisVault(42161,${vault})`);
    // Addressed to this vault, it gets past the target check (and stops at what is locked: nothing).
    assert.match(await refusal(release(vault, 10n)), /^ExceedsOutstanding\(/);
  });
});
