// The return path end to end: the engine's RELEASE and SEIZE travel back to the vault holding the
// collateral (arbitrum over LayerZero, optimism over Wormhole) and the vault executes each once.
import assert from 'node:assert/strict';
import { Contract, Wallet } from 'ethers';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import { waitForReceipt } from '../../relayer/chains/provider.js';
import { engine, lock, makeRelayer, provider, tickUntil, trader, useSharedDevnet } from '../setup/devnet.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';

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
      await tickUntil(relayer, () => store.list({ status: 'delivered' }).length === 1);
      assert.equal((await erc20(m, chain, usdc).getFunction('balanceOf')(t.address)) as bigint, before - 5_000_000n);

      await send(m, engine(m, new Wallet(t.privateKey, provider(m, 'base'))), 'close', [3n]);
      await tickUntil(relayer, () => store.list({ status: 'delivered' }).length === 2);
      for (let i = 0; i < 5; i++) await relayer.tick();

      const back = store.list({}).find((r) => r.route === `base-${chain}`);
      assert.equal(back?.kind, 'RELEASE');
      assert.equal(back?.status, 'delivered');
      assert.equal((await erc20(m, chain, usdc).getFunction('balanceOf')(t.address)) as bigint, before, 'all collateral back');
      assert.equal((await vaultOf(m, chain).getFunction('outstanding')(usdc)) as bigint, 0n);
      const executed = await vaultOf(m, chain).queryFilter('SettlementExecuted', 0, 'latest');
      assert.equal(executed.length, 1, 'executed once');
      store.close();
    });
  }

  for (const chain of ['arbitrum', 'optimism'] as const) {
    it(`refunds on ${chain} a CREDIT of a token the engine does not accept: the lock comes back, never stranded`, async () => {
      const m = devnet().manifest;
      const { relayer, store } = makeRelayer(m);
      const weth = m.chains[chain]?.contracts.weth as string;
      const owner = engine(m, new Wallet(m.accounts.deployer.privateKey, provider(m, 'base')));
      await send(m, owner, 'setCollateral', [BigInt(m.chains[chain]?.chainId ?? 0), weth, 18, false, false]);
      const t = trader(m, chain, 0);
      const before = (await erc20(m, chain, weth).getFunction('balanceOf')(t.address)) as bigint;
      const l = await lock(m, chain, { amount: 10n ** 18n, positionId: 4n, asset: 'weth' });
      await tickUntil(relayer, () => store.list({ status: 'delivered' }).length === 2);

      const refunded = await engine(m).queryFilter('CreditRefunded', 0, 'latest');
      assert.equal(refunded.length, 1);
      assert.equal((refunded[0] as unknown as { args: unknown[] }).args[0], l.lockId);
      const [credit, refund] = [store.list({}).find((r) => r.kind === 'CREDIT'), store.list({}).find((r) => r.kind === 'RELEASE')];
      assert.equal(credit?.status, 'delivered', 'the engine took the CREDIT (and refunded it) instead of refusing it for good');
      assert.equal(refund?.status, 'delivered');
      assert.equal((await erc20(m, chain, weth).getFunction('balanceOf')(t.address)) as bigint, before, 'the trader has the tokens back');
      assert.equal((await vaultOf(m, chain).getFunction('outstanding')(weth)) as bigint, 0n);
      assert.equal(await engine(m).getFunction('processed')(l.lockId), true, 'the lock cannot be credited again');
      store.close();
    });
  }
});
