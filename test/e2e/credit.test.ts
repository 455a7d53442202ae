// Credits over the real LayerZero v2 contracts, end to end through the relayer: exactly once from
// both sources, forged and replayed packets rejected on chain and recorded dead with the reason.
import assert from 'node:assert/strict';
import { Contract, ContractFactory, Wallet, ZeroHash, zeroPadValue } from 'ethers';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import { encodeMessage, MESSAGE_VERSION, MessageKind, messageId } from '../../relayer/messages/codec.js';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import { asAdmin, creditCount, engine, lock, makeRelayer, nonceOf, provider, testConfig, tickUntil, useSharedDevnet } from '../setup/devnet.js';
import { waitForReceipt } from '../../relayer/chains/provider.js';

describe('credit path (arbitrum over LayerZero v2, optimism over Wormhole)', function () {
  this.timeout(120_000);
  const devnet = useSharedDevnet();

  for (const batching of [false, true]) {
    it(`credits locks from both sources, over both transports, exactly once (${batching ? 'batched through the RelayBatcher' : 'one transaction per step'})`, async () => {
      const m = devnet().manifest;
      const { relayer, store } = makeRelayer(m, { config: testConfig(m, undefined, { batching }) });
      const nonceBefore = await nonceOf(m, 'base', m.accounts.relayer.address);
      const locks = [
        await lock(m, 'arbitrum', { amount: 2_500_000_000n, positionId: 1n }),
        await lock(m, 'optimism', { amount: 10n ** 18n, positionId: 2n, asset: 'weth' }),
        await lock(m, 'arbitrum', { amount: 7n, positionId: 1n }),
      ];
      await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === locks.length);
      // Tick more: nothing is delivered twice, nothing else appears.
      for (let i = 0; i < 5; i++) await relayer.tick();

      const rows = await store.list({});
      assert.equal(rows.length, 3);
      assert.deepEqual(rows.map((r) => r.status), ['delivered', 'delivered', 'delivered']);
      for (const l of locks) {
        assert.equal(await creditCount(m, l.lockId), 1, `lock ${l.lockId} credited once`);
        assert.equal(rows.filter((r) => r.messageId === l.lockId).length, 1);
      }
      const e = engine(m);
      const arb = m.chains.arbitrum?.contracts.usdc as string;
      assert.equal(await e.getFunction('collateralOf')(m.accounts.traders[0]?.address, 1n, 42161n, arb), 2_500_000_007n);
      const sent = (await nonceOf(m, 'base', m.accounts.relayer.address)) - nonceBefore;
      if (batching) assert.ok(sent >= 1 && sent <= 3, `one batch per tick at most, got ${sent} transactions`);
      // LayerZero (arbitrum): a verify per required DVN (two), commit, lzReceive; Wormhole (optimism): receiveWormholeMessage.
      else assert.equal(sent, 2 * 4 + 1, 'one transaction per step, none repeated');
      await store.close();
    });
  }

  it('does not send anything for a packet already delivered (a fresh store replays the history)', async () => {
    const m = devnet().manifest;
    const first = makeRelayer(m);
    const l = await lock(m, 'arbitrum');
    await tickUntil(first.relayer, async () => (await first.store.list({ status: 'delivered' })).length === 1);
    const nonce = await nonceOf(m, 'base', m.accounts.relayer.address);

    const second = makeRelayer(m, { store: SqliteStore.open(':memory:') });
    await tickUntil(second.relayer, async () => (await second.store.list({ status: 'delivered' })).length === 1);
    assert.equal(await nonceOf(m, 'base', m.accounts.relayer.address), nonce, 'no transaction sent');
    assert.equal(await creditCount(m, l.lockId), 1);
  });

  describe('forged and replayed messages', () => {
    async function rogueSender(): Promise<{ rogue: Contract; owner: Wallet }> {
      const m = devnet().manifest;
      const owner = new Wallet(m.accounts.deployer.privateKey, provider(m, 'arbitrum'));
      const { abi, bytecode } = ourArtifact('RogueSender');
      const c = await new ContractFactory(abi, bytecode, owner).deploy(m.chains.arbitrum?.layerzero.endpoint, owner.address);
      await c.waitForDeployment();
      const rogue = new Contract(await c.getAddress(), abi, owner);
      await (await rogue.getFunction('setPeer').send(30184, zeroPadValue(m.chains.base?.contracts.engine as string, 32))).wait(1, 10_000);
      return { rogue, owner };
    }

    async function sendCredit(rogue: Contract, nonce: bigint, origin?: string): Promise<string> {
      const m = devnet().manifest;
      const message = encodeMessage({
        version: MESSAGE_VERSION, kind: MessageKind.CREDIT, originChainId: 42161n, origin: origin ?? (await rogue.getAddress()), nonce,
        trader: m.accounts.traders[1]?.address as string, positionId: 9n, token: m.chains.arbitrum?.contracts.usdc as string, amount: 1_000_000_000n,
        targetChainId: 8453n, target: m.chains.base?.contracts.engine as string, market: ZeroHash, price: 0n,
      });
      const options = '0x00030100110100000000000000000000000000030d40';
      const fee = (await rogue.getFunction('quote')(30184, message, options)) as bigint;
      const tx = await rogue.getFunction('sendRaw').send(30184, message, options, { value: fee });
      await waitForReceipt(provider(devnet().manifest, 'arbitrum'), tx.hash);
      return messageId(42161n, origin ?? (await rogue.getAddress()), nonce);
    }

    it('a CREDIT from an unregistered sender is rejected on chain and recorded dead with the reason', async () => {
      const m = devnet().manifest;
      const { rogue } = await rogueSender();
      // It even claims to come from the real vault: the origin check never gets that far.
      const lockId = await sendCredit(rogue, 1n, m.chains.arbitrum?.contracts.vault);
      const { relayer, store } = makeRelayer(m);
      await tickUntil(relayer, async () => (await store.list({})).some((r) => r.status === 'dead'));
      const [row] = await store.list({});
      assert.equal(row?.status, 'dead');
      assert.match(row?.lastError ?? '', /not the registered peer/);
      assert.match(row?.lastError ?? '', /LZ_PathNotInitializable/);
      assert.equal(await creditCount(m, lockId), 0);
    });

    it('a replayed lockId from a registered sender is rejected by the engine and recorded dead', async () => {
      const m = devnet().manifest;
      const { rogue } = await rogueSender();
      // The engine owner (through its timelock) registers the rogue as arbitrum's peer (a compromised or buggy vault).
      await asAdmin(m, 'registerSource', [30110, 42161, await rogue.getAddress()]);
      const lockId = await sendCredit(rogue, 1n);
      await sendCredit(rogue, 1n); // the same lockId again, in a new packet
      const { relayer, store } = makeRelayer(m);
      await tickUntil(relayer, async () => (await store.list({})).filter((r) => r.status === 'delivered' || r.status === 'dead').length === 2);
      const rows = await store.list({});
      assert.deepEqual(rows.map((r) => r.status).sort(), ['dead', 'delivered']);
      const dead = rows.find((r) => r.status === 'dead');
      assert.match(dead?.lastError ?? '', /already credited: replayed message/);
      assert.equal(await creditCount(m, lockId), 1);
    });
  });
});
