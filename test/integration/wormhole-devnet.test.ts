// The real Wormhole core on two anvil chains with the devnet guardian in between:
// publishMessage on 42161 → LogMessagePublished → the guardian signs → GET signed VAA →
// parseAndVerifyVM on 8453. Also bad VAAs (wrong key, no quorum) and the API down / slow.
import assert from 'node:assert/strict';
import { Contract, Wallet, getAddress, getBytes, hexlify, randomBytes, toUtf8Bytes, type JsonRpcProvider } from 'ethers';
import { deserialize } from '@wormhole-foundation/sdk-definitions';
import { DEVNET_ACCOUNTS, devnetProvider, startAnvil, type AnvilNode } from '../../relayer/devnet/anvil.js';
import {
  LOG_MESSAGE_PUBLISHED_TOPIC,
  signVaa,
  startGuardian,
  wormholeEmitterHex,
  type GuardianService,
  type VaaBodyFields,
} from '../../relayer/devnet/guardian.js';
import { DEVNET_GUARDIANS, deployWormholeCore, wormholeCoreArtifact } from '../../relayer/devnet/wormhole.js';
import { waitForReceipt } from '../../relayer/chains/provider.js';

interface Chain {
  readonly node: AnvilNode;
  readonly provider: JsonRpcProvider;
  readonly wormholeChainId: number;
  readonly core: Contract;
}

interface VerifyResult {
  vm: { emitterChainId: bigint; emitterAddress: string; sequence: bigint; payload: string; nonce: bigint; consistencyLevel: bigint; guardianSetIndex: bigint };
  valid: boolean;
  reason: string;
}

const GUARDIAN_KEYS = DEVNET_GUARDIANS.map((g) => g.privateKey);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function key(i: number): string {
  const a = DEVNET_ACCOUNTS[i];
  if (a === undefined) throw new Error(`no devnet account ${i}`);
  return a.privateKey;
}

async function startChain(chainId: number, wormholeChainId: number): Promise<Chain> {
  const node = await startAnvil({ chainId });
  const provider = devnetProvider(node);
  const deployer = new Wallet(key(0), provider);
  const { core } = await deployWormholeCore(deployer, {
    chainId: wormholeChainId,
    evmChainId: BigInt(chainId),
    guardians: DEVNET_GUARDIANS.map((g) => g.address),
  });
  const { abi } = await wormholeCoreArtifact();
  return { node, provider, wormholeChainId, core: new Contract(core, abi, provider) };
}

async function verify(chain: Chain, vaa: Uint8Array): Promise<VerifyResult> {
  const [vm, valid, reason] = (await chain.core.getFunction('parseAndVerifyVM').staticCall(vaa)) as [VerifyResult['vm'], boolean, string];
  return { vm, valid, reason };
}

describe('Wormhole devnet: real core + devnet guardian', function () {
  this.timeout(60_000);

  let arbitrum: Chain;
  let base: Chain;
  let guardian: GuardianService;
  let sender: Wallet;
  let vaaUrl: string;
  let apiUrl: string;
  let signedVaa: Uint8Array;
  let body: VaaBodyFields;
  const payload = hexlify(toUtf8Bytes('CREDIT lock 1: 100 USDC'));

  before(async function () {
    [arbitrum, base] = await Promise.all([startChain(42161, 23), startChain(8453, 30)]);
    guardian = await startGuardian({
      chains: [arbitrum, base].map((c) => ({
        name: String(c.node.chainId),
        wormholeChainId: c.wormholeChainId,
        rpcUrl: c.node.url,
        evmChainId: c.node.chainId,
        core: c.core.target as string,
        pollMs: 50,
      })),
      guardianKeys: GUARDIAN_KEYS,
      port: 0,
      finality: 2,
    });
    sender = new Wallet(key(3), arbitrum.provider);
  });

  after(async function () {
    await guardian?.stop();
    await Promise.all([arbitrum?.node.stop(), base?.node.stop()]);
  });

  it('deploys a core that reads back guardian set 0, chain ids and a zero fee', async function () {
    for (const chain of [arbitrum, base]) {
      const c = chain.core;
      assert.equal(await c.getFunction('getCurrentGuardianSetIndex').staticCall(), 0n);
      // A Result is an Array: `.keys` is Array.prototype.keys, so read the tuple by position.
      const [keys, expirationTime] = (await c.getFunction('getGuardianSet').staticCall(0)) as [string[], bigint];
      assert.deepEqual([...keys].map((k) => getAddress(k)), DEVNET_GUARDIANS.map((g) => g.address));
      assert.equal(expirationTime, 0n);
      assert.equal(await c.getFunction('chainId').staticCall(), BigInt(chain.wormholeChainId));
      assert.equal(await c.getFunction('evmChainId').staticCall(), BigInt(chain.node.chainId));
      assert.equal(await c.getFunction('isFork').staticCall(), false);
      assert.equal(await c.getFunction('messageFee').staticCall(), 0n);
      assert.equal(await c.getFunction('governanceChainId').staticCall(), 1n);
      assert.equal(await c.getFunction('quorum').staticCall(2), 2n);
    }
  });

  it('signs a published message and serves it: 404 before, 200 after, valid on the other chain', async function () {
    const core = arbitrum.core.connect(sender) as Contract;
    // Looked up before the message exists: a deterministic 404.
    const emitter = wormholeEmitterHex(sender.address);
    const expectedSequence = (await arbitrum.core.getFunction('nextSequence').staticCall(sender.address)) as bigint;
    vaaUrl = `${guardian.url}/v1/signed_vaa/23/${emitter}/${expectedSequence}`;
    apiUrl = `${guardian.url}/api/v1/vaas/23/${emitter}/${expectedSequence}`;
    const before = await fetch(vaaUrl);
    assert.equal(before.status, 404);
    assert.deepEqual(await before.json(), { code: 5, message: 'requested VAA not found in store' });

    const tx = await core.getFunction('publishMessage').send(7, payload, 200);
    const receipt = await waitForReceipt(arbitrum.provider, tx.hash);
    assert.ok(receipt !== null && receipt.status === 1);
    const log = receipt.logs.find((l) => l.topics[0] === LOG_MESSAGE_PUBLISHED_TOPIC);
    assert.ok(log !== undefined, 'no LogMessagePublished');
    const block = await arbitrum.provider.getBlock(receipt.blockNumber);
    assert.ok(block !== null);

    const started = Date.now();
    let response = await fetch(vaaUrl);
    while (response.status === 404 && Date.now() - started < 5_000) {
      await sleep(25);
      response = await fetch(vaaUrl);
    }
    assert.equal(response.status, 200);
    const { vaaBytes } = (await response.json()) as { vaaBytes: string };
    signedVaa = new Uint8Array(Buffer.from(vaaBytes, 'base64'));

    // The SDK reads it back.
    const parsed = deserialize('Uint8Array', signedVaa);
    assert.equal(parsed.emitterChain, 'Arbitrum');
    assert.equal(parsed.sequence, expectedSequence);
    assert.equal(parsed.signatures.length, 2);
    assert.equal(parsed.timestamp, block.timestamp);

    const { vm, valid, reason } = await verify(base, signedVaa);
    assert.equal(reason, '');
    assert.equal(valid, true);
    assert.equal(vm.emitterChainId, 23n);
    assert.equal(vm.emitterAddress, `0x${emitter}`);
    assert.equal(vm.sequence, expectedSequence);
    assert.equal(vm.payload, payload);
    assert.equal(vm.nonce, 7n);
    assert.equal(vm.consistencyLevel, 200n);
    assert.equal(vm.guardianSetIndex, 0n);

    const gas = await base.core.getFunction('parseAndVerifyVM').estimateGas(signedVaa);
    const calldata = getBytes(base.core.interface.encodeFunctionData('parseAndVerifyVM', [signedVaa]));
    const intrinsic = 21_000 + calldata.reduce((sum, b) => sum + (b === 0 ? 4 : 16), 0);
    console.log(`      parseAndVerifyVM, 2 guardians, ${signedVaa.length}-byte VAA: ${gas} gas as a transaction, ~${Number(gas) - intrinsic} execution`);

    // The Wormholescan API shape carries the same bytes.
    const api = await fetch(apiUrl);
    assert.equal(api.status, 200);
    const apiBody = (await api.json()) as { data: { vaa: string; emitterChain: number; emitterAddr: string; sequence: string } };
    assert.equal(apiBody.data.vaa, vaaBytes);
    assert.equal(apiBody.data.emitterChain, 23);
    assert.equal(apiBody.data.emitterAddr, emitter);
    assert.equal(apiBody.data.sequence, expectedSequence.toString());

    body = {
      timestamp: parsed.timestamp,
      nonce: parsed.nonce,
      emitterChain: 23,
      emitterAddress: sender.address,
      sequence: parsed.sequence,
      consistencyLevel: parsed.consistencyLevel,
      payload,
    };
    // signVaa with the guardian keys reproduces the guardian's bytes (deterministic RFC 6979).
    assert.equal(hexlify(signVaa({ ...body, guardianKeys: GUARDIAN_KEYS })), hexlify(signedVaa));
  });

  it('waits for `finality` confirmations before signing a finalized-level message', async function () {
    const core = arbitrum.core.connect(sender) as Contract;
    const sequence = (await arbitrum.core.getFunction('nextSequence').staticCall(sender.address)) as bigint;
    const url = `${guardian.url}/v1/signed_vaa/23/${wormholeEmitterHex(sender.address)}/${sequence}`;
    const tx = await core.getFunction('publishMessage').send(8, payload, 1);
    await waitForReceipt(arbitrum.provider, tx.hash);
    await sleep(300);
    assert.equal((await fetch(url)).status, 404, 'signed before 2 confirmations');
    await arbitrum.provider.send('anvil_mine', ['0x2']);
    const started = Date.now();
    let status = (await fetch(url)).status;
    while (status === 404 && Date.now() - started < 5_000) {
      await sleep(25);
      status = (await fetch(url)).status;
    }
    assert.equal(status, 200);
  });

  it('never signs a finalized-level message that a reorg removed before finality', async function () {
    const core = arbitrum.core.connect(sender) as Contract;
    const sequence = (await arbitrum.core.getFunction('nextSequence').staticCall(sender.address)) as bigint;
    const url = `${guardian.url}/v1/signed_vaa/23/${wormholeEmitterHex(sender.address)}/${sequence}`;
    const snapshot = (await arbitrum.provider.send('evm_snapshot', [])) as string;
    const orphan = hexlify(toUtf8Bytes('orphaned'));
    const tx = await core.getFunction('publishMessage').send(9, orphan, 1);
    await waitForReceipt(arbitrum.provider, tx.hash);
    await sleep(200); // the guardian has seen it, pending
    assert.equal(await arbitrum.provider.send('evm_revert', [snapshot]), true);
    await arbitrum.provider.send('anvil_mine', ['0x3']); // longer than the old chain
    await sleep(300);
    assert.equal((await fetch(url)).status, 404, 'signed an orphaned message');

    // The sequence is reused on the new chain, with another payload: that one is signed.
    const replacement = hexlify(toUtf8Bytes('replacement'));
    const again = await core.getFunction('publishMessage').send(10, replacement, 1);
    await waitForReceipt(arbitrum.provider, again.hash);
    await arbitrum.provider.send('anvil_mine', ['0x2']);
    const started = Date.now();
    let response = await fetch(url);
    while (response.status === 404 && Date.now() - started < 5_000) {
      await sleep(25);
      response = await fetch(url);
    }
    assert.equal(response.status, 200);
    const { vaaBytes } = (await response.json()) as { vaaBytes: string };
    const { vm, valid } = await verify(base, new Uint8Array(Buffer.from(vaaBytes, 'base64')));
    assert.equal(valid, true);
    assert.equal(vm.payload, replacement);
    assert.equal(vm.sequence, sequence);
  });

  it('rejects a VAA signed by a non-guardian key', async function () {
    const rogue = hexlify(randomBytes(32));
    const guardian1 = GUARDIAN_KEYS[1];
    assert.ok(guardian1 !== undefined);
    const forged = signVaa({ ...body, guardianKeys: [rogue, guardian1] });
    const { valid, reason } = await verify(base, forged);
    assert.equal(valid, false);
    assert.equal(reason, 'VM signature invalid');
  });

  it('rejects a VAA with 1 of 2 signatures (no quorum)', async function () {
    const { valid, reason } = await verify(base, signVaa({ ...body, guardianKeys: GUARDIAN_KEYS, signerIndices: [1] }));
    assert.equal(valid, false);
    assert.equal(reason, 'no quorum');
  });

  it('rejects a VAA whose body was altered after signing', async function () {
    const tampered = new Uint8Array(signedVaa);
    const last = tampered.length - 1;
    tampered[last] = (tampered[last] ?? 0) ^ 0x01;
    const { valid, reason } = await verify(base, tampered);
    assert.equal(valid, false);
    assert.equal(reason, 'VM signature invalid');
  });

  it('answers 503 while paused, 200 after resume, and late while slowed down', async function () {
    guardian.pause();
    const down = await fetch(vaaUrl);
    assert.equal(down.status, 503);
    guardian.resume();
    assert.equal((await fetch(vaaUrl)).status, 200);

    guardian.setDelayMs(300);
    const started = Date.now();
    assert.equal((await fetch(vaaUrl)).status, 200);
    assert.ok(Date.now() - started >= 280, 'answer was not delayed');
    guardian.setDelayMs(0);
  });
});
