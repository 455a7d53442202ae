// The Wormhole transport: LogMessagePublished from the sender (a vault, or the engine for RELEASE/SEIZE)
// → the VAA the guardians signed, fetched from the signed-VAA API and parsed with
// @wormhole-foundation/sdk-definitions → one receiveWormholeMessage call on the receiver.
// Delivered means the receiver consumed the VAA's hash.
import { WaitCode } from '../../messages/reasons.js';
import { deserialize } from '@wormhole-foundation/sdk-definitions';
import { hexlify, Interface, keccak256, solidityPacked } from 'ethers';
import { abiFunction, errorDecoder } from '../../chains/abiFunction.js';
import type { ChainClient, Log, Receipt } from '../../chains/client.js';
import { ourArtifact } from '../../chains/contractsAbi.js';
import type { Config } from '../../config/schema.js';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import { identifyMessage } from '../../messages/codec.js';
import { ENGINE_REJECTIONS, ENGINE_WAITS, revertVerdict } from '../engineRejections.js';
import { afterDelivery } from '../parkedSeize.js';
import type { MessageRow, NewMessage } from '../../store/store.js';
import { observedOn, routeEnds, routeNamed, type DeliveryPlan, type RevertVerdict, type SourceWatch, type Transport } from '../transport.js';
import { decodePublished, emitterHex, LOG_MESSAGE_PUBLISHED_TOPIC } from './logMessage.js';
import { VaaApi } from './vaaApi.js';

// The engine (CREDIT) and the vault (RELEASE/SEIZE) receive VAAs alike: same two functions.
const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);
const vaultIface = new Interface(ourArtifact('CollateralVault').abi);
const receiveWormholeMessage = abiFunction(engineIface, 'receiveWormholeMessage');
const consumedVaas = abiFunction(engineIface, 'consumedVaas');
const engineOutboundNonce = abiFunction(engineIface, 'outboundNonce');
const coreNextSequence = abiFunction(new Interface(['function nextSequence(address emitter) view returns (uint64)']), 'nextSequence');
const decodeError = errorDecoder([engineIface, vaultIface]);

/** Reverts after which no retry can succeed. */
const PERMANENT: Readonly<Record<string, string>> = {
  ...ENGINE_REJECTIONS,
  InvalidVaa: 'the core rejected the VAA (signatures, guardian set or format)',
  UnknownEmitter: 'the VAA\'s emitter is not the registered sender of its chain',
};

interface StoredPublication {
  chainId: number;
  emitter: string;
  sequence: string;
  payload: string;
  /** The contract the VAA is delivered to (the engine for a CREDIT, a vault for RELEASE/SEIZE). */
  receiver?: string;
}

export class WormholeTransport implements Transport {
  readonly name = 'wormhole';
  private readonly api: VaaApi;

  constructor(private readonly config: Config) {
    const wh = config.wormhole;
    this.api = new VaaApi({ urls: wh?.apiUrls ?? [], timeoutMs: wh?.timeoutMs ?? 5_000 });
  }

  private chainWh(name: string) {
    const wh = this.config.chains[name]?.wormhole;
    if (wh === undefined) throw new Error(`chain ${name} has no wormhole config`);
    return wh;
  }

  sourceWatch(routeName: string): SourceWatch {
    const route = routeNamed(this.config, routeName);
    const src = this.chainWh(route.source);
    const target = this.chainWh(route.destination).chainId;
    const { sender, receiver } = routeEnds(this.config, route);
    const emitter = emitterHex(sender);
    const settle = route.direction === 'settle';
    return {
      // Only the sender's messages: the core publishes for every contract on the chain.
      filter: { address: src.core, topics: [LOG_MESSAGE_PUBLISHED_TOPIC, '0x' + emitter] },
      pathHeads: async (source: ChainClient) => {
        if (settle) {
          // The engine numbers what it sends per destination chain.
          const destination = BigInt(this.config.chains[route.destination]?.chainId ?? 0);
          const [n] = engineOutboundNonce.decode(await source.call(sender, engineOutboundNonce.encode([destination])));
          return [{ path: `wormhole:${src.chainId}/${emitter}->${target}`, nonce: n as bigint }];
        }
        const [next] = coreNextSequence.decode(await source.call(src.core, coreNextSequence.encode([sender])));
        return (next as bigint) === 0n ? [] : [{ path: `wormhole:${src.chainId}/${emitter}`, nonce: (next as bigint) - 1n }];
      },
      parse: (log: Log): NewMessage | null => {
        const p = decodePublished(log.topics, log.data);
        if (emitterHex(p.sender) !== emitter) return null;
        // The engine broadcasts to every vault; its VAA nonce names the target chain.
        if (settle && p.nonce !== target) return null;
        const { messageId: id, kind, nonce } = identifyMessage(p.payload);
        const vaaId = keccak256(solidityPacked(['uint16', 'bytes32', 'uint64'], [src.chainId, '0x' + emitter, p.sequence]));
        const stored: StoredPublication = { chainId: src.chainId, emitter, sequence: p.sequence.toString(), payload: p.payload, receiver };
        return {
          id: `wormhole:${src.chainId}/${emitter}/${p.sequence}`,
          ...observedOn(route, log),
          transport: 'wormhole',
          transportId: vaaId,
          messageId: id,
          kind,
          payload: JSON.stringify(stored),
          // A vault's sequence is the emitter's; the engine numbers its messages per target instead.
          sequence: settle ? (nonce === null ? null : { path: `wormhole:${src.chainId}/${emitter}->${target}`, nonce }) : { path: `wormhole:${src.chainId}/${emitter}`, nonce: p.sequence },
        };
      },
    };
  }

  async plan(row: MessageRow, dst: ChainClient): Promise<DeliveryPlan> {
    const pub = JSON.parse(row.payload) as StoredPublication;
    const bytes = await this.api.signedVaa(pub.chainId, pub.emitter, BigInt(pub.sequence));
    if (bytes === null) return { kind: 'wait', code: WaitCode.vaaUnsigned, reason: 'the guardians have not signed the VAA yet' };
    let vaa;
    try {
      vaa = deserialize('Uint8Array', bytes);
    } catch (cause) {
      throw new IsorelayError(ErrorCode.GUARDIAN_API_UNAVAILABLE, `the API answered bytes that are not a VAA for ${row.id}`, { cause });
    }
    // The API is not trusted to describe the message: it must be the one we saw published.
    const sameMessage =
      vaa.emitterAddress.toString().slice(2).toLowerCase() === pub.emitter &&
      vaa.sequence === BigInt(pub.sequence) &&
      hexlify(vaa.payload).toLowerCase() === pub.payload.toLowerCase();
    if (!sameMessage) throw new IsorelayError(ErrorCode.GUARDIAN_API_UNAVAILABLE, `the API answered a VAA that is not ${row.id}`);
    // The core's VM hash is keccak256(keccak256(body)); the SDK's `hash` is the inner one.
    const vmHash = keccak256(vaa.hash);
    const receiver = pub.receiver ?? this.config.chains[row.dstChain]?.engine;
    if (receiver === undefined) throw new Error(`no receiver for ${row.id} on ${row.dstChain}`);
    const [consumed] = consumedVaas.decode(await dst.call(receiver, consumedVaas.encode([vmHash])));
    if (consumed === true) return afterDelivery(row, pub.payload, receiver, dst);
    return {
      kind: 'send',
      steps: [
        {
          step: 'receiveWormholeMessage',
          phase: 0,
          then: 'submitted',
          tx: { to: receiver, data: receiveWormholeMessage.encode([hexlify(bytes)]), purpose: 'receiveWormholeMessage', messages: [row.id] },
        },
      ],
    };
  }

  stepFailure(_step: string, _receipt: Receipt, _dstChain: string): string | null {
    return null;
  }

  appMessage(row: MessageRow): string {
    return (JSON.parse(row.payload) as StoredPublication).payload;
  }

  explainRevert(revertData: string | null): RevertVerdict {
    // VaaAlreadyConsumed stays transient: someone delivered it meanwhile; the next plan sees it delivered.
    return revertVerdict(revertData, { decode: decodeError, permanent: PERMANENT, wait: ENGINE_WAITS });
  }

}
