// The real LayerZero v2 stack on two anvil chains, driven by hand the way the relayer drives it:
// EndpointV2.send → PacketSent → DVN.execute(verify) → commitVerification → EndpointV2.lzReceive.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AbiCoder, Contract, ContractFactory, Interface, Wallet, getAddress, keccak256, ZeroHash, zeroPadValue, type InterfaceAbi, type JsonRpcProvider, type TransactionReceipt } from 'ethers';
import { Options, PacketV1Codec } from '@layerzerolabs/lz-v2-utilities';
import { DEVNET_ACCOUNTS, devnetProvider, startAnvil, type AnvilNode } from '../../relayer/devnet/anvil.js';
import { deployLayerZero, type LayerZeroDeployment } from '../../relayer/devnet/layerzero.js';
import { layerZeroAbi } from '../../relayer/transports/layerzero/artifacts.js';
import {
  RECEIVE_ULN_VERIFY_SELECTOR,
  buildDvnExecuteParam,
  encodeDvnExecuteCall,
  encodeVerifyCall,
  hashDvnInstruction,
} from '../../relayer/transports/layerzero/dvnSignature.js';
import { waitForReceipt } from '../../relayer/chains/provider.js';
import { ENGINE_MODULES } from '../../relayer/devnet/deploy.js';

const CONFIRMATIONS = 1n;
const LZ_RECEIVE_GAS = 300_000n;
// Gas the transaction needs on top of the receiver's own budget: intrinsic + calldata + the
// endpoint's payload clearing and call overhead.
const LZ_RECEIVE_TX_OVERHEAD = 100_000n;

const account = (i: number): Wallet => {
  const entry = DEVNET_ACCOUNTS[i];
  if (entry === undefined) throw new Error(`no devnet account ${i}`);
  return new Wallet(entry.privateKey);
};
const DVN_SIGNERS = [account(2), account(3), account(4)] as const;
const DVN_QUORUM = 2;

interface Chain {
  readonly name: string;
  readonly chainId: number;
  readonly eid: number;
  readonly node: AnvilNode;
  readonly provider: JsonRpcProvider;
  readonly owner: Wallet;
  /** The relayer's key: DVN and Executor admin. */
  readonly relayer: Wallet;
  readonly lz: LayerZeroDeployment;
  readonly endpoint: Contract;
  readonly receiveUln: Contract;
  readonly dvn: Contract;
}

interface SentPacket {
  readonly codec: PacketV1Codec;
  readonly options: string;
  readonly receipt: TransactionReceipt;
}

const endpointInterface = new Interface(layerZeroAbi('EndpointV2'));
// Errors bubble from the endpoint through ReceiveUln302, so decode with both ABIs.
const lzErrors = new Interface([
  ...endpointInterface.fragments.filter((f) => f.type === 'error'),
  ...new Interface(layerZeroAbi('ReceiveUln302')).fragments.filter((f) => f.type === 'error'),
]);

async function startChain(name: string, chainId: number, eid: number, remoteEid: number): Promise<Chain> {
  const node = await startAnvil({ chainId });
  const provider = devnetProvider(node);
  const owner = account(0).connect(provider);
  const relayer = account(1).connect(provider);
  const lz = await deployLayerZero(owner, {
    localEid: eid,
    remoteEids: [remoteEid],
    dvnSigners: DVN_SIGNERS.map((w) => w.address),
    dvnQuorum: DVN_QUORUM,
    dvnAdmins: [relayer.address],
    executorAdmins: [relayer.address],
    confirmations: CONFIRMATIONS,
  });
  return {
    name,
    chainId,
    eid,
    node,
    provider,
    owner,
    relayer,
    lz,
    endpoint: new Contract(lz.endpoint, layerZeroAbi('EndpointV2'), relayer),
    receiveUln: new Contract(lz.receiveUln302, layerZeroAbi('ReceiveUln302'), relayer),
    dvn: new Contract(lz.dvn, layerZeroAbi('DVN'), relayer),
  };
}

async function mined(pending: Promise<{ hash: string }>, provider: JsonRpcProvider): Promise<TransactionReceipt> {
  const { hash } = await pending;
  const receipt = await waitForReceipt(provider, hash);
  assert.ok(receipt, `no receipt for ${hash}`);
  assert.equal(receipt.status, 1, `transaction ${hash} reverted`);
  return receipt;
}

async function deploy(chain: Chain, abi: InterfaceAbi, bytecode: string, args: unknown[]): Promise<Contract> {
  const contract = await new ContractFactory(abi, bytecode, chain.owner).deploy(...args);
  const tx = contract.deploymentTransaction();
  assert.ok(tx);
  await mined(Promise.resolve(tx), chain.provider);
  return new Contract(await contract.getAddress(), abi, chain.owner);
}

function packetSentIn(receipt: TransactionReceipt, chain: Chain): SentPacket {
  const sent = receipt.logs
    .filter((log) => getAddress(log.address) === chain.lz.endpoint)
    .map((log) => endpointInterface.parseLog(log))
    .filter((parsed) => parsed?.name === 'PacketSent');
  assert.equal(sent.length, 1, 'exactly one PacketSent per send');
  const [event] = sent;
  assert.ok(event);
  // ethers types decoded event values as any; PacketSent's are (bytes, bytes, address).
  const encodedPayload = event.args.getValue('encodedPayload') as string;
  const options = event.args.getValue('options') as string;
  return { codec: PacketV1Codec.from(encodedPayload), options, receipt };
}

function originOf(codec: PacketV1Codec): { srcEid: number; sender: string; nonce: bigint } {
  return { srcEid: codec.srcEid(), sender: codec.sender(), nonce: BigInt(codec.nonce()) };
}

/** The relayer's DVN role: sign ReceiveUln302.verify with a quorum and submit it through DVN.execute. */
async function dvnVerify(dst: Chain, codec: PacketV1Codec): Promise<TransactionReceipt> {
  const latest = await dst.provider.getBlock('latest');
  assert.ok(latest);
  const param = buildDvnExecuteParam({
    vid: dst.lz.vid,
    target: dst.lz.receiveUln302,
    callData: encodeVerifyCall(codec.header(), codec.payloadHash(), CONFIRMATIONS),
    expiration: BigInt(latest.timestamp) + 600n,
    // Deliberately not in address order: buildDvnExecuteParam sorts them.
    signers: [DVN_SIGNERS[2], DVN_SIGNERS[0]],
  });
  const receipt = await mined(dst.dvn.getFunction('execute').send([param]), dst.provider);
  // DVN.execute swallows failures as events, so a mined transaction proves nothing by itself.
  const dvnEvents = receipt.logs
    .filter((log) => getAddress(log.address) === dst.lz.dvn)
    .map((log) => dst.dvn.interface.parseLog(log)?.name);
  assert.deepEqual(dvnEvents.filter((name) => name === 'VerifySignaturesFailed' || name === 'ExecuteFailed'), []);
  const verification = await dst.receiveUln.getFunction('hashLookup')(codec.headerHash(), codec.payloadHash(), dst.lz.dvn);
  assert.equal(verification.submitted, true);
  assert.equal(verification.confirmations, CONFIRMATIONS);
  return receipt;
}

async function commit(dst: Chain, codec: PacketV1Codec): Promise<TransactionReceipt> {
  return mined(dst.receiveUln.getFunction('commitVerification').send(codec.header(), codec.payloadHash()), dst.provider);
}

function lzReceiveGasOf(options: string): bigint {
  const option = Options.fromOptions(options).decodeExecutorLzReceiveOption();
  assert.ok(option, 'the packet carries an executor lzReceive option');
  return option.gas;
}

async function deliver(dst: Chain, packet: SentPacket): Promise<TransactionReceipt> {
  const { codec } = packet;
  return mined(
    dst.endpoint.getFunction('lzReceive').send(originOf(codec), codec.receiverAddressB20(), codec.guid(), codec.message(), '0x', {
      gasLimit: lzReceiveGasOf(packet.options) + LZ_RECEIVE_TX_OVERHEAD,
    }),
    dst.provider,
  );
}

/** The custom error a call reverts with, decoded against LayerZero's error ABIs. */
async function revertName(call: Promise<unknown>, extra?: Interface): Promise<string> {
  try {
    await call;
  } catch (error) {
    // ethers' CallExceptionError carries the raw revert data; checked to be a string below.
    const data = (error as { data?: unknown }).data;
    assert.equal(typeof data, 'string', `expected revert data, got ${String(error)}`);
    const parsed = lzErrors.parseError(data as string) ?? extra?.parseError(data as string);
    return parsed?.name ?? `unknown revert ${String(data)}`;
  }
  assert.fail('expected the call to revert');
}

const gasReport: Record<string, bigint> = {};

describe('LayerZero v2 stack on two anvil chains', function () {
  this.timeout(60_000);
  let arbitrum: Chain;
  let base: Chain;

  before(async function () {
    [arbitrum, base] = await Promise.all([
      startChain('arbitrum', 42161, 30110, 30184),
      startChain('base', 8453, 30184, 30110),
    ]);
  });

  after(async function () {
    await Promise.all([arbitrum?.node.stop(), base?.node.stop()]);
    if (process.env.LZ_GAS_REPORT === '1') console.log('gas used', gasReport);
  });

  it('deploys a wired stack on each chain with our DVN as the one required verifier', async function () {
    for (const [local, remote] of [[arbitrum, base], [base, arbitrum]] as const) {
      assert.equal(await local.endpoint.getFunction('eid')(), BigInt(local.eid));
      assert.equal(await local.endpoint.getFunction('defaultSendLibrary')(remote.eid), local.lz.sendUln302);
      assert.equal(await local.endpoint.getFunction('defaultReceiveLibrary')(remote.eid), local.lz.receiveUln302);
      const config = await local.receiveUln.getFunction('getUlnConfig')(local.owner.address, remote.eid);
      assert.deepEqual([...config.requiredDVNs], [local.lz.dvn]);
      assert.equal(config.confirmations, CONFIRMATIONS);
      assert.equal(await local.dvn.getFunction('vid')(), BigInt(local.eid % 30_000));
      assert.equal(await local.dvn.getFunction('quorum')(), BigInt(DVN_QUORUM));
    }
  });

  it('signs exactly the hash DVN.hashCallData computes, in the order MultiSig.verifySignatures accepts', async function () {
    const instruction = {
      vid: base.lz.vid,
      target: base.lz.receiveUln302,
      callData: encodeVerifyCall(`0x01${'00'.repeat(80)}`, `0x${'11'.repeat(32)}`, 1n),
      expiration: 2_000_000_000n,
    };
    assert.equal(instruction.callData.slice(0, 10), RECEIVE_ULN_VERIFY_SELECTOR);
    const onChainHash = await base.dvn.getFunction('hashCallData')(instruction.vid, instruction.target, instruction.callData, instruction.expiration);
    assert.equal(hashDvnInstruction(instruction), onChainHash);
    const param = buildDvnExecuteParam({ ...instruction, signers: [DVN_SIGNERS[1], DVN_SIGNERS[0]] });
    assert.equal((param.signatures.length - 2) / 2, DVN_QUORUM * 65);
    const [valid, reason] = await base.dvn.getFunction('verifySignatures')(onChainHash, param.signatures);
    assert.equal(reason, 0n);
    assert.equal(valid, true);
    // The same calldata encodes whether built by hand or by ethers from the DVN ABI.
    assert.equal(encodeDvnExecuteCall([param]), base.dvn.interface.encodeFunctionData('execute', [[param]]));
  });

  describe("with LayerZero's own OAppMock as sender and receiver", function () {
    const require = createRequire(import.meta.url);
    const oappArtifact = require('@layerzerolabs/oapp-evm/artifacts/OAppMock.sol/OAppMock.json') as {
      abi: InterfaceAbi;
      bytecode: { object: string };
    };
    let sender: Contract;
    let receiver: Contract;

    before(async function () {
      sender = await deploy(arbitrum, oappArtifact.abi, oappArtifact.bytecode.object, [arbitrum.lz.endpoint, arbitrum.owner.address]);
      receiver = await deploy(base, oappArtifact.abi, oappArtifact.bytecode.object, [base.lz.endpoint, base.owner.address]);
      await mined(sender.getFunction('setPeer').send(base.eid, zeroPadValue(await receiver.getAddress(), 32)), arbitrum.provider);
      await mined(receiver.getFunction('setPeer').send(arbitrum.eid, zeroPadValue(await sender.getAddress(), 32)), base.provider);
    });

    async function sendHello(from: Contract, text: string): Promise<SentPacket> {
      const options = Options.newOptions().addExecutorLzReceiveOption(LZ_RECEIVE_GAS, 0).toHex();
      const fee = (await from.getFunction('quote')(base.eid, text, options, false)).nativeFee as bigint;
      assert.ok(fee > 0n, 'fees are small but not zero');
      const receipt = await mined(from.getFunction('send').send(base.eid, text, options, fee, { value: fee }), arbitrum.provider);
      return packetSentIn(receipt, arbitrum);
    }

    it('delivers a message: verify through the DVN, commit, lzReceive', async function () {
      const packet = await sendHello(sender, 'hello base');
      const { codec } = packet;
      assert.equal(codec.dstEid(), base.eid);
      assert.equal(lzReceiveGasOf(packet.options), LZ_RECEIVE_GAS);

      const origin = originOf(codec);
      const receiverAddress = await receiver.getAddress();
      gasReport.send = packet.receipt.gasUsed;
      gasReport.dvnExecuteVerify = (await dvnVerify(base, codec)).gasUsed;
      gasReport.commitVerification = (await commit(base, codec)).gasUsed;
      assert.equal(await base.endpoint.getFunction('inboundPayloadHash')(receiverAddress, origin.srcEid, origin.sender, origin.nonce), codec.payloadHash());

      gasReport.lzReceive = (await deliver(base, packet)).gasUsed;
      assert.equal(await receiver.getFunction('data')(), 'hello base');
      // Delivered: the payload hash is cleared and the lazy nonce has caught up.
      assert.equal(await base.endpoint.getFunction('inboundPayloadHash')(receiverAddress, origin.srcEid, origin.sender, origin.nonce), `0x${'00'.repeat(32)}`);
      assert.equal(await base.endpoint.getFunction('lazyInboundNonce')(receiverAddress, origin.srcEid, origin.sender), origin.nonce);

      // Replays: delivering again finds no payload hash; re-verifying a delivered nonce is refused.
      const again = base.endpoint.getFunction('lzReceive').staticCall(origin, receiverAddress, codec.guid(), codec.message(), '0x');
      assert.equal(await revertName(again), 'LZ_PayloadHashNotFound');
      await dvnVerify(base, codec);
      const recommit = base.receiveUln.getFunction('commitVerification').staticCall(codec.header(), codec.payloadHash());
      assert.equal(await revertName(recommit), 'LZ_PathNotVerifiable');
    });

    it('refuses to commit a packet before the DVN has verified it', async function () {
      const { codec } = await sendHello(sender, 'not yet');
      const early = base.receiveUln.getFunction('commitVerification').staticCall(codec.header(), codec.payloadHash());
      assert.equal(await revertName(early), 'LZ_ULN_Verifying');
    });

    it('refuses to commit a packet from a sender the receiver has not registered as a peer', async function () {
      const stranger = await deploy(arbitrum, oappArtifact.abi, oappArtifact.bytecode.object, [arbitrum.lz.endpoint, arbitrum.owner.address]);
      await mined(stranger.getFunction('setPeer').send(base.eid, zeroPadValue(await receiver.getAddress(), 32)), arbitrum.provider);
      const { codec } = await sendHello(stranger, 'let me in');
      await dvnVerify(base, codec);
      const refused = base.receiveUln.getFunction('commitVerification').staticCall(codec.header(), codec.payloadHash());
      assert.equal(await revertName(refused), 'LZ_PathNotInitializable');
    });
  });

  describe('with the project contracts: RogueSender → IsolatedMarginEngine', function () {
    const abiPath = (name: string): URL => new URL(`../../contracts-abi/${name}.json`, import.meta.url);
    const loadArtifact = (name: string): { abi: InterfaceAbi; bytecode: string } =>
      // Generated by scripts/build-contracts.ts in this shape; a wrong shape fails at deploy.
      JSON.parse(readFileSync(abiPath(name), 'utf8')) as { abi: InterfaceAbi; bytecode: string };
    const TOKEN_ON_ARBITRUM = getAddress('0x00000000000000000000000000000000000a4b10');
    const TRADER = account(5).address;
    let engine: Contract;
    let engineErrors: Interface;

    before(async function () {
      if (!existsSync(abiPath('IsolatedMarginEngine')) || !existsSync(abiPath('RogueSender'))) {
        // contracts-abi/ is generated by `npm run build:contracts`; without it there is no engine.
        this.skip();
      }
      const engineArtifact = loadArtifact('IsolatedMarginEngine');
      engineErrors = new Interface(engineArtifact.abi);
      // Its modules first: the engine routes trading, settlement and liquidation to them.
      const modules: string[] = [];
      for (const name of ENGINE_MODULES) {
        const a = loadArtifact(name);
        modules.push(await (await deploy(base, a.abi, a.bytecode, [])).getAddress());
      }
      engine = await deploy(base, engineArtifact.abi, engineArtifact.bytecode, [base.lz.endpoint, base.owner.address, modules]);
      await mined(engine.getFunction('setCollateral').send(arbitrum.chainId, TOKEN_ON_ARBITRUM, 6, true, true), base.provider);
      // The endpoint is driven by the relayer key here: it executes the CREDITs.
      await mined(engine.getFunction('setExecutor').send(await (base.endpoint.runner as Wallet).getAddress(), true), base.provider);
    });

    async function rogueSender(): Promise<Contract> {
      const artifact = loadArtifact('RogueSender');
      const rogue = await deploy(arbitrum, artifact.abi, artifact.bytecode, [arbitrum.lz.endpoint, arbitrum.owner.address]);
      await mined(rogue.getFunction('setPeer').send(base.eid, zeroPadValue(await engine.getAddress(), 32)), arbitrum.provider);
      return rogue;
    }

    function credit(origin: string, nonce: bigint, positionId: bigint, amount: bigint): string {
      // docs/messages.md: thirteen static words, version 2, kind 1 = CREDIT, for this engine on
      // base, with a zero market and price (only a SEIZE carries them).
      return AbiCoder.defaultAbiCoder().encode(
        ['uint8', 'uint8', 'uint64', 'address', 'uint64', 'address', 'uint256', 'address', 'uint256', 'uint64', 'address', 'bytes32', 'uint256'],
        [2, 1, arbitrum.chainId, origin, nonce, TRADER, positionId, TOKEN_ON_ARBITRUM, amount, base.chainId, engine.target, ZeroHash, 0],
      );
    }

    async function sendRaw(rogue: Contract, message: string): Promise<SentPacket> {
      const options = Options.newOptions().addExecutorLzReceiveOption(LZ_RECEIVE_GAS, 0).toHex();
      const fee = (await rogue.getFunction('quote')(base.eid, message, options)) as bigint;
      const receipt = await mined(rogue.getFunction('sendRaw').send(base.eid, message, options, { value: fee }), arbitrum.provider);
      return packetSentIn(receipt, arbitrum);
    }

    it('credits the isolated position for a CREDIT from the registered source', async function () {
      const vault = await rogueSender();
      const vaultAddress = await vault.getAddress();
      await mined(engine.getFunction('registerSource').send(arbitrum.eid, arbitrum.chainId, vaultAddress), base.provider);

      const packet = await sendRaw(vault, credit(vaultAddress, 1n, 7n, 250_000_000n));
      await dvnVerify(base, packet.codec);
      await commit(base, packet.codec);
      gasReport.engineCreditLzReceive = (await deliver(base, packet)).gasUsed;

      assert.equal(await engine.getFunction('collateralOf')(TRADER, 7n, arbitrum.chainId, TOKEN_ON_ARBITRUM), 250_000_000n);
      const lockId = AbiCoder.defaultAbiCoder().encode(['uint64', 'address', 'uint64'], [arbitrum.chainId, vaultAddress, 1n]);
      assert.equal(await engine.getFunction('processed')(keccak256(lockId)), true);
    });

    it('refuses to commit a CREDIT from an unregistered sender', async function () {
      const rogue = await rogueSender();
      const packet = await sendRaw(rogue, credit(await rogue.getAddress(), 1n, 8n, 1_000_000n));
      await dvnVerify(base, packet.codec);
      const refused = base.receiveUln.getFunction('commitVerification').staticCall(packet.codec.header(), packet.codec.payloadHash());
      assert.equal(await revertName(refused, engineErrors), 'LZ_PathNotInitializable');
      assert.equal(await engine.getFunction('collateralOf')(TRADER, 8n, arbitrum.chainId, TOKEN_ON_ARBITRUM), 0n);
    });
  });
});
