// The benchmark's baseline: the same transactions the relayer sends — DVN verify, commitVerification
// and lzReceive for LayerZero, receiveWormholeMessage for Wormhole — driven with no relayer logic — no store, no state machine, no estimation, a local
// nonce counter, every packet in flight at once.
import { hexlify, Interface, Transaction, Wallet } from 'ethers';
import { abiFunction } from '../relayer/chains/abiFunction.js';
import { ourArtifact } from '../relayer/chains/contractsAbi.js';
import { decodePublished, emitterHex, LOG_MESSAGE_PUBLISHED_TOPIC } from '../relayer/transports/wormhole/logMessage.js';
import { VaaApi } from '../relayer/transports/wormhole/vaaApi.js';
import { ChainClient } from '../relayer/chains/client.js';
import type { Config } from '../relayer/config/schema.js';
import { layerZeroAbi } from '../relayer/transports/layerzero/artifacts.js';
import { buildDvnExecuteParam, encodeDvnExecuteCall, encodeVerifyCall } from '../relayer/transports/layerzero/dvnSignature.js';
import { decodePacket, PACKET_SENT_TOPIC, packetFromLogData, type LayerZeroPacket } from '../relayer/transports/layerzero/packet.js';

const endpointIface = new Interface(layerZeroAbi('EndpointV2'));
const receiveUlnIface = new Interface(layerZeroAbi('ReceiveUln302'));
const receiveWormhole = abiFunction(new Interface(ourArtifact('IsolatedMarginEngine').abi), 'receiveWormholeMessage');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface BareDriver {
  stop(): Promise<void>;
  delivered(): number;
}

/** One required DVN of the pathway: where it is, its id, and the key that signs for it. */
export interface BareDvn {
  address: string;
  vid: number;
  signer: Wallet;
}

export async function startBareDriver(config: Config, relayerKey: Wallet, dvns: readonly BareDvn[], o: { pollMs: number; fromBlocks: Record<string, bigint> }): Promise<BareDriver> {
  const clients = new Map(Object.entries(config.chains).map(([n, c]) => [n, new ChainClient(n, c)]));
  const client = (n: string) => clients.get(n) as ChainClient;
  const dstName = config.routes[0]?.destination as string;
  const dst = client(dstName);
  const dstLz = config.chains[dstName]?.layerzero;
  if (dstLz === undefined) throw new Error('no destination');
  let nonce = Number(BigInt(await dst.rpc.call<string>('eth_getTransactionCount', [relayerKey.address, 'pending'])));
  const fees = { maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n };
  let running = true;
  let delivered = 0;
  const tasks: Promise<void>[] = [];

  const send = async (to: string, data: string, gasLimit: bigint): Promise<boolean> => {
    const tx = Transaction.from({ type: 2, chainId: dst.chainId, nonce: nonce++, to, data, gasLimit, ...fees });
    const raw = await relayerKey.signTransaction(tx);
    const hash = await dst.rpc.call<string>('eth_sendRawTransaction', [raw]);
    for (;;) {
      const r = await dst.receipt(hash);
      if (r !== null) return r.status === 1;
      await sleep(o.pollMs);
    }
  };

  const deliver = async (p: LayerZeroPacket): Promise<void> => {
    const head = await dst.block('latest');
    for (const dvn of dvns) {
      const param = buildDvnExecuteParam({
        vid: dvn.vid, target: dstLz.receiveUln302, callData: encodeVerifyCall(p.header, p.payloadHash, BigInt(dstLz.confirmations)),
        expiration: BigInt((head?.timestamp ?? 0) + 600), signers: [dvn.signer],
      });
      if (!(await send(dvn.address, encodeDvnExecuteCall([param]), 300_000n))) throw new Error('bare driver: verify reverted');
    }
    await send(dstLz.receiveUln302, receiveUlnIface.encodeFunctionData('commitVerification', [p.header, p.payloadHash]), 300_000n);
    const origin = { srcEid: p.srcEid, sender: p.sender, nonce: p.nonce };
    const receive = endpointIface.encodeFunctionData('lzReceive', [origin, p.receiver, p.guid, p.message, '0x']);
    // The endpoint delivers a path in nonce order: a receive that overtook an earlier commit reverts; send it again.
    for (let attempt = 0; attempt < 20; attempt++) {
      if (await send(dstLz.endpoint, receive, p.lzReceiveGas + 100_000n)) {
        delivered++;
        return;
      }
      await sleep(o.pollMs);
    }
    throw new Error(`bare driver: lzReceive of ${p.guid} kept reverting`);
  };

  const watch = async (route: Config['routes'][number]): Promise<void> => {
    const src = client(route.source);
    const lz = config.chains[route.source]?.layerzero;
    const confirmations = BigInt((config.chains[route.source]?.finality as { confirmations: number }).confirmations);
    let next = o.fromBlocks[route.source] ?? 0n;
    while (running) {
      const head = await src.blockNumber();
      const final = head - confirmations;
      if (final >= next && lz !== undefined) {
        const { logs } = await src.logsWithBounds({ address: lz.endpoint, topics: [PACKET_SENT_TOPIC] }, next, final);
        for (const log of logs) {
          const { encoded, options } = packetFromLogData(log.data);
          tasks.push(deliver(decodePacket(encoded, options)));
        }
        next = final + 1n;
      }
      await sleep(o.pollMs);
    }
  };

  // Wormhole: the vault's LogMessagePublished → the signed VAA from the API → receiveWormholeMessage.
  const api = new VaaApi({ urls: config.wormhole?.apiUrls ?? [], timeoutMs: config.wormhole?.timeoutMs ?? 5_000 });
  const engine = config.chains[dstName]?.engine as string;
  const deliverVaa = async (whChain: number, emitter: string, sequence: bigint): Promise<void> => {
    for (;;) {
      const vaa = await api.signedVaa(whChain, emitter, sequence).catch(() => null);
      if (vaa !== null) {
        if (!(await send(engine, receiveWormhole.encode([hexlify(vaa)]), 400_000n))) throw new Error('bare driver: receiveWormholeMessage reverted');
        delivered++;
        return;
      }
      await sleep(o.pollMs);
    }
  };
  const watchWormhole = async (route: Config['routes'][number]): Promise<void> => {
    const src = client(route.source);
    const wh = config.chains[route.source]?.wormhole;
    const vault = config.chains[route.source]?.vault;
    if (wh === undefined || vault === undefined) return;
    const confirmations = BigInt((config.chains[route.source]?.finality as { confirmations: number }).confirmations);
    let next = o.fromBlocks[route.source] ?? 0n;
    while (running) {
      const final = (await src.blockNumber()) - confirmations;
      if (final >= next) {
        const { logs } = await src.logsWithBounds({ address: wh.core, topics: [LOG_MESSAGE_PUBLISHED_TOPIC, '0x' + emitterHex(vault)] }, next, final);
        for (const log of logs) tasks.push(deliverVaa(wh.chainId, emitterHex(vault), decodePublished(log.topics, log.data).sequence));
        next = final + 1n;
      }
      await sleep(o.pollMs);
    }
  };

  const watchers = config.routes.map((r) => (r.transport === 'wormhole' ? watchWormhole(r) : watch(r)));
  return {
    delivered: () => delivered,
    stop: async () => {
      running = false;
      await Promise.all(watchers);
      await Promise.all(tasks);
    },
  };
}
