// The Wormhole transport: LogMessagePublished from the source vault → the VAA the guardians signed,
// fetched from the signed-VAA API and parsed with @wormhole-foundation/sdk-definitions → one call
// to the engine's receiveWormholeMessage. Delivered means the engine consumed the VAA's hash.
import { deserialize } from '@wormhole-foundation/sdk-definitions';
import { hexlify, Interface, keccak256, solidityPacked } from 'ethers';
import { abiFunction, errorDecoder } from '../../chains/abiFunction.js';
import type { ChainClient, Log, Receipt } from '../../chains/client.js';
import { ourArtifact } from '../../chains/contractsAbi.js';
import type { Config } from '../../config/schema.js';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import { identifyMessage } from '../../messages/codec.js';
import { ENGINE_REJECTIONS, revertVerdict } from '../engineRejections.js';
import type { MessageRow, NewMessage } from '../../store/store.js';
import { observedOn, type DeliveryPlan, type RevertVerdict, type SourceWatch, type Transport } from '../transport.js';
import { decodePublished, emitterHex, LOG_MESSAGE_PUBLISHED_TOPIC } from './logMessage.js';
import { VaaApi } from './vaaApi.js';

const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);
const receiveWormholeMessage = abiFunction(engineIface, 'receiveWormholeMessage');
const consumedVaas = abiFunction(engineIface, 'consumedVaas');
const decodeError = errorDecoder([engineIface]);

/** Reverts after which no retry can succeed. */
const PERMANENT: Readonly<Record<string, string>> = {
  ...ENGINE_REJECTIONS,
  InvalidVaa: 'the core rejected the VAA (signatures, guardian set or format)',
  UnknownEmitter: 'the VAA\'s emitter is not the registered vault of its chain',
};

interface StoredPublication {
  chainId: number;
  emitter: string;
  sequence: string;
  payload: string;
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
    const route = this.config.routes.find((r) => r.name === routeName);
    if (route === undefined) throw new Error(`unknown route ${routeName}`);
    const src = this.chainWh(route.source);
    const vault = this.config.chains[route.source]?.vault;
    if (vault === undefined) throw new Error(`chain ${route.source} has no vault`);
    const emitter = emitterHex(vault);
    return {
      // Only the vault's messages: the core publishes for every contract on the chain.
      filter: { address: src.core, topics: [LOG_MESSAGE_PUBLISHED_TOPIC, '0x' + emitter] },
      parse: (log: Log): NewMessage | null => {
        const p = decodePublished(log.topics, log.data);
        if (emitterHex(p.sender) !== emitter) return null;
        const { messageId: id, kind } = identifyMessage(p.payload);
        const vaaId = keccak256(solidityPacked(['uint16', 'bytes32', 'uint64'], [src.chainId, '0x' + emitter, p.sequence]));
        const stored: StoredPublication = { chainId: src.chainId, emitter, sequence: p.sequence.toString(), payload: p.payload };
        return {
          id: `wormhole:${src.chainId}/${emitter}/${p.sequence}`,
          ...observedOn(route, log),
          transport: 'wormhole',
          transportId: vaaId,
          messageId: id,
          kind,
          payload: JSON.stringify(stored),
          sequence: { path: `wormhole:${src.chainId}/${emitter}`, nonce: p.sequence },
        };
      },
    };
  }

  async plan(row: MessageRow, dst: ChainClient): Promise<DeliveryPlan> {
    const pub = JSON.parse(row.payload) as StoredPublication;
    const bytes = await this.api.signedVaa(pub.chainId, pub.emitter, BigInt(pub.sequence));
    if (bytes === null) return { kind: 'wait', reason: 'the guardians have not signed the VAA yet' };
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
    const engine = this.config.chains[row.dstChain]?.engine;
    if (engine === undefined) throw new Error(`chain ${row.dstChain} has no engine`);
    const [consumed] = consumedVaas.decode(await dst.call(engine, consumedVaas.encode([vmHash])));
    if (consumed === true) return { kind: 'delivered' };
    return {
      kind: 'send',
      steps: [
        {
          step: 'receiveWormholeMessage',
          phase: 0,
          then: 'submitted',
          tx: { to: engine, data: receiveWormholeMessage.encode([hexlify(bytes)]), purpose: 'receiveWormholeMessage', messages: [row.id] },
        },
      ],
    };
  }

  stepFailure(_step: string, _receipt: Receipt, _dstChain: string): string | null {
    return null;
  }

  explainRevert(revertData: string | null): RevertVerdict {
    // VaaAlreadyConsumed stays transient: someone delivered it meanwhile; the next plan sees it delivered.
    return revertVerdict(revertData, { decode: decodeError, permanent: PERMANENT });
  }

}
