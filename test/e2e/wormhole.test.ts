// The Wormhole path end to end: the real core contract on every chain, the devnet guardian, the
// engine's checks on chain (guardian signatures, emitter, chain, replay) and the relayer facing a
// lying, down or slow signed-VAA API: nothing is lost, nothing forged or replayed is credited.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hexlify, Interface, Wallet, ZeroHash } from 'ethers';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import { signVaa, type VaaBodyFields } from '../../relayer/devnet/guardian.js';
import { encodeMessage, MESSAGE_VERSION, MessageKind, messageId } from '../../relayer/messages/codec.js';
import { creditCount, engine, lock, makeRelayer, provider, testConfig, tickUntil, useSharedDevnet } from '../setup/devnet.js';
import { waitForReceipt } from '../../relayer/chains/provider.js';

const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);

describe('Wormhole path (real core, devnet guardian)', function () {
  this.timeout(120_000);
  const devnet = useSharedDevnet();

  /** A CREDIT as the optimism vault would publish it, as VAA body fields. */
  function creditFields(o: { nonce: bigint; sequence: bigint; emitterChain?: number; emitter?: string; origin?: string; target?: string; targetChainId?: bigint }): VaaBodyFields {
    const m = devnet().manifest;
    const vault = m.chains.optimism?.contracts.vault as string;
    return {
      timestamp: Math.floor(Date.now() / 1000), nonce: 0, emitterChain: o.emitterChain ?? 24, emitterAddress: o.emitter ?? vault,
      sequence: o.sequence, consistencyLevel: 1,
      payload: encodeMessage({
        version: MESSAGE_VERSION, kind: MessageKind.CREDIT, originChainId: 10n, origin: o.origin ?? vault, nonce: o.nonce,
        trader: m.accounts.traders[1]?.address as string, positionId: 5n, token: m.chains.optimism?.contracts.usdc as string, amount: 123n,
        targetChainId: o.targetChainId ?? 8453n, target: o.target ?? (m.chains.base?.contracts.engine as string), market: ZeroHash, price: 0n,
      }),
    };
  }

  /** Simulates delivering `vaa` from `from` (the relayer, an executor, unless said): null when accepted, else the custom error. */
  async function receive(vaa: Uint8Array, from = devnet().manifest.accounts.relayer.privateKey): Promise<string | null> {
    const m = devnet().manifest;
    const e = engine(m, new Wallet(from, provider(m, 'base')));
    try {
      await e.getFunction('receiveWormholeMessage').staticCall(hexlify(vaa));
      return null;
    } catch (err) {
      const data = (err as { data?: string }).data ?? null;
      const parsed = data === null ? null : engineIface.parseError(data);
      return parsed === null ? 'unknown' : `${parsed.name}(${parsed.args.map(String).join(',')})`;
    }
  }

  describe('the engine rejects on chain', () => {
    const guardianKeys = () => devnet().manifest.accounts.guardians.map((g) => g.privateKey);

    it('accepts a VAA signed by the guardian quorum from the registered vault', async () => {
      assert.equal(await receive(signVaa({ ...creditFields({ nonce: 900n, sequence: 900n }), guardianKeys: guardianKeys() })), null);
    });

    it('refuses a valid CREDIT from anyone but an executor: a CREDIT the relayer holds cannot be executed by someone else', async () => {
      const m = devnet().manifest;
      const vaa = signVaa({ ...creditFields({ nonce: 900n, sequence: 900n }), guardianKeys: guardianKeys() });
      const outsider = m.accounts.traders[1]?.privateKey as string;
      assert.equal(await receive(vaa, outsider), `NotExecutor(${m.accounts.traders[1]?.address})`);
      assert.equal(await receive(vaa), null, 'the same VAA from the relayer is accepted');
    });

    it('rejects a VAA with too few guardian signatures', async () => {
      const vaa = signVaa({ ...creditFields({ nonce: 900n, sequence: 900n }), guardianKeys: guardianKeys(), signerIndices: [0] });
      assert.match((await receive(vaa)) ?? '', /^InvalidVaa\(no quorum\)/);
    });

    it('rejects a VAA signed by keys that are not the guardians', async () => {
      const vaa = signVaa({ ...creditFields({ nonce: 900n, sequence: 900n }), guardianKeys: [Wallet.createRandom().privateKey, Wallet.createRandom().privateKey] });
      assert.match((await receive(vaa)) ?? '', /^InvalidVaa\(VM signature invalid\)/);
    });

    it('rejects a VAA from an emitter that is not the registered vault', async () => {
      const rogue = Wallet.createRandom().address;
      const vaa = signVaa({ ...creditFields({ nonce: 900n, sequence: 900n, emitter: rogue, origin: rogue }), guardianKeys: guardianKeys() });
      assert.match((await receive(vaa)) ?? '', /^UnknownEmitter\(24,/);
    });

    it('rejects a CREDIT that names another engine, or another chain: two engines trusting one vault cannot both credit a lock', async () => {
      const other = Wallet.createRandom().address;
      const toOther = signVaa({ ...creditFields({ nonce: 900n, sequence: 900n, target: other }), guardianKeys: guardianKeys() });
      assert.equal(await receive(toOther), `NotForThisEngine(8453,${other})`);
      const engineAddress = devnet().manifest.chains.base?.contracts.engine as string;
      const toChain = signVaa({ ...creditFields({ nonce: 900n, sequence: 900n, targetChainId: 1n }), guardianKeys: guardianKeys() });
      assert.equal(await receive(toChain), `NotForThisEngine(1,${engineAddress})`);
    });

    it('rejects a VAA claiming another Wormhole chain than the vault\'s', async () => {
      // Base (30) has no registered emitter at all.
      const fromBase = signVaa({ ...creditFields({ nonce: 900n, sequence: 900n, emitterChain: 30 }), guardianKeys: guardianKeys() });
      assert.match((await receive(fromBase)) ?? '', /^UnknownEmitter\(30,/);
      // Arbitrum (23) has one — on the devnet at the same address as optimism's vault — but the
      // message says it comes from chain 10: the origin check refuses it.
      const fromArbitrum = signVaa({ ...creditFields({ nonce: 900n, sequence: 900n, emitterChain: 23 }), guardianKeys: guardianKeys() });
      assert.equal(await receive(fromArbitrum), 'OriginMismatch()');
    });

    it('rejects a replayed VAA, and a new VAA replaying a credited lockId', async () => {
      const m = devnet().manifest;
      const owner = new Wallet(m.accounts.relayer.privateKey, provider(m, 'base'));
      const vaa = signVaa({ ...creditFields({ nonce: 901n, sequence: 901n }), guardianKeys: guardianKeys() });
      const tx = await engine(m, owner).getFunction('receiveWormholeMessage').send(hexlify(vaa));
      await waitForReceipt(provider(m, 'base'), tx.hash);
      assert.match((await receive(vaa)) ?? '', /^VaaAlreadyConsumed\(/);
      const again = signVaa({ ...creditFields({ nonce: 901n, sequence: 902n }), guardianKeys: guardianKeys() });
      assert.match((await receive(again)) ?? '', /^AlreadyProcessed\(/);
      assert.equal(await creditCount(m, messageId(10n, m.chains.optimism?.contracts.vault as string, 901n)), 1);
    });
  });

  describe('the relayer and the signed-VAA API', () => {
    let fake: Server | undefined;
    afterEach(async () => {
      devnet().guardian.resume();
      devnet().guardian.setDelayMs(0);
      if (fake !== undefined) await new Promise((r) => fake?.close(r));
      fake = undefined;
    });

    it('delivers every message once the guardian API is back after being down, losing none', async () => {
      const m = devnet().manifest;
      const { relayer, store } = makeRelayer(m);
      devnet().guardian.pause();
      const locks = [await lock(m, 'optimism', { positionId: 1n }), await lock(m, 'optimism', { positionId: 2n })];
      for (let i = 0; i < 8; i++) await relayer.tick();
      assert.equal((await store.list({ status: 'delivered' })).length, 0);
      assert.equal((await store.list({ status: 'dead' })).length, 0, 'an outage never kills a message');
      devnet().guardian.resume();
      await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 2);
      for (const l of locks) assert.equal(await creditCount(m, l.lockId), 1);
    });

    it('delivers once a slow API answers within the timeout again', async () => {
      const m = devnet().manifest;
      const { relayer, store } = makeRelayer(m);
      devnet().guardian.setDelayMs(2_500); // past the devnet config's 2 s timeout
      const l = await lock(m, 'optimism');
      for (let i = 0; i < 3; i++) await relayer.tick();
      assert.equal((await store.list({ status: 'delivered' })).length, 0);
      devnet().guardian.setDelayMs(0);
      await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 1);
      assert.equal(await creditCount(m, l.lockId), 1);
    });

    it('records dead, with the reason, a message whose VAA from a lying API is not signed by the guardians', async () => {
      const m = devnet().manifest;
      const l = await lock(m, 'optimism', { amount: 777n });
      const published = await provider(m, 'optimism').getTransactionReceipt(l.txHash);
      const block = await provider(m, 'optimism').getBlock(published?.blockNumber ?? 0);
      const forged = signVaa({
        ...creditFields({ nonce: l.nonce, sequence: 0n }),
        timestamp: block?.timestamp ?? 0,
        payload: encodeMessage({
          version: MESSAGE_VERSION, kind: MessageKind.CREDIT, originChainId: 10n, origin: m.chains.optimism?.contracts.vault as string, nonce: l.nonce,
          trader: m.accounts.traders[0]?.address as string, positionId: 1n, token: m.chains.optimism?.contracts.usdc as string, amount: 777n,
          targetChainId: 8453n, target: m.chains.base?.contracts.engine as string, market: ZeroHash, price: 0n,
        }),
        guardianKeys: [Wallet.createRandom().privateKey, Wallet.createRandom().privateKey],
      });
      fake = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ vaaBytes: Buffer.from(forged).toString('base64') }));
      });
      await new Promise<void>((r) => fake?.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
      const { relayer, store } = makeRelayer(m, { config: testConfig(m, (raw) => { raw.wormhole = { apiUrls: [url], timeoutMs: 2_000 }; }) });
      await tickUntil(relayer, async () => (await store.list({ status: 'dead' })).length === 1);
      assert.match((await store.list({}))[0]?.lastError ?? '', /the core rejected the VAA .*VM signature invalid/);
      assert.equal(await creditCount(m, l.lockId), 0);
    });

    it('stops reading an endless signed-VAA answer at the cap, and delivers through a sane API', async () => {
      const m = devnet().manifest;
      let written = 0;
      let streams = 0;
      fake = createServer((_req, res) => {
        streams++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"vaaBytes":"');
        const chunk = 'A'.repeat(64 * 1024);
        const pump = (): void => {
          while (!res.destroyed && written < 64 * 1024 * 1024) {
            written += chunk.length;
            if (!res.write(chunk)) {
              res.once('drain', pump);
              return;
            }
          }
          res.end('"}');
        };
        pump();
      });
      await new Promise<void>((r) => fake?.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
      const { relayer, store } = makeRelayer(m, { config: testConfig(m, (raw) => { raw.wormhole = { apiUrls: [url, devnet().guardian.url], timeoutMs: 2_000 }; }) });
      const l = await lock(m, 'optimism');
      await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 1);
      assert.ok(streams >= 1, 'the endless API was asked first');
      assert.ok(written < 16 * 1024 * 1024, `the relayer stopped reading early (${written} bytes written)`);
      assert.equal(await creditCount(m, l.lockId), 1);
    });
  });
});
