// The LayerZero v2 transport: PacketSent on the source endpoint → our DVN's verification on
// ReceiveUln302 (DVN.execute, signed by the DVN signer) → commitVerification → EndpointV2.lzReceive
// with the gas the packet's options ask for. Every step is planned from destination state, so a
// repeated step after a crash is never sent twice.
import { WaitCode } from '../../messages/reasons.js';
import { getAddress, Interface, zeroPadValue, type Wallet } from 'ethers';
import { abiFunction, errorDecoder } from '../../chains/abiFunction.js';
import type { ChainClient, Log, Receipt } from '../../chains/client.js';
import { ourArtifact } from '../../chains/contractsAbi.js';
import type { Config } from '../../config/schema.js';
import { identifyMessage } from '../../messages/codec.js';
import { ENGINE_REJECTIONS, ENGINE_WAITS, revertVerdict } from '../engineRejections.js';
import { afterDelivery } from '../parkedSeize.js';
import type { MessageRow, NewMessage } from '../../store/store.js';
import { observedOn, routeEnds, routeNamed, type DeliveryPlan, type DeliveryStep, type RevertVerdict, type SourceWatch, type Transport } from '../transport.js';
import { layerZeroAbi } from './artifacts.js';
import { buildDvnExecuteParam, encodeDvnExecuteCall, encodeVerifyCall } from './dvnSignature.js';
import { PACKET_SENT_TOPIC, decodePacket, packetFromLogData, type LayerZeroPacket } from './packet.js';

const endpointIface = new Interface(layerZeroAbi('EndpointV2'));
const receiveUlnIface = new Interface(layerZeroAbi('ReceiveUln302'));
const dvnIface = new Interface(layerZeroAbi('DVN'));
const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);
const vaultIface = new Interface(ourArtifact('CollateralVault').abi);
const decodeError = errorDecoder([engineIface, vaultIface, endpointIface, receiveUlnIface, dvnIface]);
const inboundPayloadHash = abiFunction(endpointIface, 'inboundPayloadHash');
const outboundNonceFn = abiFunction(endpointIface, 'outboundNonce');
const lazyInboundNonce = abiFunction(endpointIface, 'lazyInboundNonce');
const lzReceive = abiFunction(endpointIface, 'lzReceive');
const hashLookup = abiFunction(receiveUlnIface, 'hashLookup');
const commitVerification = abiFunction(receiveUlnIface, 'commitVerification');

/** Revert reasons after which no retry can succeed, with what to tell the operator. */
const PERMANENT: Readonly<Record<string, string>> = {
  ...ENGINE_REJECTIONS,
  LZ_PathNotInitializable: 'the receiver does not accept this sender (it is not the registered peer for its chain)',
  LZ_InvalidReceiveLibrary: 'the receive library is not the receiver\'s configured one',
  OnlyPeer: 'the sender is not the registered peer of the receiver',
};

const ZERO_HASH = zeroPadValue('0x', 32);
/** Gas limits of our own steps (measured ~70k and ~80k on the real contracts, with headroom). */
const VERIFY_GAS = 200_000n;
const COMMIT_GAS = 200_000n;
const ENDPOINT_RECEIVE_OVERHEAD_GAS = 100_000n;

const REVERTS = {
  decode: decodeError,
  permanent: PERMANENT,
  // The endpoint delivers a path in nonce order: an earlier packet must be committed first.
  wait: { LZ_InvalidNonce: { code: WaitCode.nonceOrder, text: 'waiting for an earlier nonce of this path' }, ...ENGINE_WAITS },
};

const PAYLOAD = { encode: (p: { encoded: string; options: string }) => JSON.stringify(p) };

/** Packets are planned a few times while in flight; more than this many in flight at once is rare (memory stays flat). */
const PACKET_CACHE_SIZE = 1_000;

interface OurDvn {
  address: string;
  signer: Wallet;
  /** The source providers whose answers it may sign from; null: any provider of the source. */
  providers: readonly string[] | null;
}

export interface LayerZeroTransportOptions {
  config: Config;
  /** Signs the verifications of each chain's `layerzero.dvn`; must be one of that DVN's multisig signers. */
  dvnSigner: Wallet;
  /** The signers of `layerzero.moreDvns`, by name (keys.dvnSigners). */
  dvnSigners?: Readonly<Record<string, Wallet>>;
  /** Lifetime of a signed DVN instruction. */
  instructionTtlSeconds?: number;
}

export class LayerZeroTransport implements Transport {
  readonly name = 'layerzero';
  private readonly vids = new Map<string, number>();
  private readonly dvnLists = new Map<string, OurDvn[]>();
  /**
   * Decoded packets, keyed by the stored bytes themselves — never by guid: after a reorg the same
   * guid (path and nonce) can carry another payload. A message is planned several times.
   */
  private readonly packets = new Map<string, LayerZeroPacket>();

  private packetOf(row: MessageRow): LayerZeroPacket {
    const cached = this.packets.get(row.payload);
    if (cached !== undefined) return cached;
    const { encoded, options } = JSON.parse(row.payload) as { encoded: string; options: string };
    const packet = decodePacket(encoded, options);
    if (this.packets.size >= PACKET_CACHE_SIZE) this.packets.delete(this.packets.keys().next().value as string);
    this.packets.set(row.payload, packet);
    return packet;
  }

  constructor(private readonly options: LayerZeroTransportOptions) {}

  /** Every DVN of a destination that this relayer runs, with its signer and the source providers it reads. */
  private dvnsOf(chain: string): OurDvn[] {
    let list = this.dvnLists.get(chain);
    if (list !== undefined) return list;
    const lz = this.chainLz(chain);
    list = [
      { address: lz.dvn, signer: this.options.dvnSigner, providers: lz.dvnProviders ?? null },
      ...lz.moreDvns.map((d) => {
        const signer = this.options.dvnSigners?.[d.signer];
        if (signer === undefined) throw new Error(`no key ${d.signer} for DVN ${d.address} on ${chain}`);
        return { address: d.address, signer, providers: d.providers ?? null };
      }),
    ];
    this.dvnLists.set(chain, list);
    return list;
  }

  private chainLz(name: string) {
    const lz = this.options.config.chains[name]?.layerzero;
    if (lz === undefined) throw new Error(`chain ${name} has no layerzero config`);
    return lz;
  }

  sourceWatch(routeName: string): SourceWatch {
    const { config } = this.options;
    const route = routeNamed(config, routeName);
    const src = this.chainLz(route.source);
    const dst = this.chainLz(route.destination);
    const { sender, receiver } = routeEnds(config, route);
    const path = `${src.eid}:${zeroPadValue(sender, 32).toLowerCase()}:${dst.eid}:${getAddress(receiver)}`;
    return {
      filter: { address: src.endpoint, topics: [PACKET_SENT_TOPIC] },
      pathHeads: async (source: ChainClient) => {
        const raw = await source.call(src.endpoint, outboundNonceFn.encode([sender, dst.eid, zeroPadValue(receiver, 32)]));
        return [{ path, nonce: outboundNonceFn.decode(raw)[0] as bigint }];
      },
      parse: (log: Log): NewMessage | null => {
        const { encoded, options } = packetFromLogData(log.data);
        const packet = decodePacket(encoded, options);
        // Any sender's packet to our receiver is taken: a forged one is refused on chain and ends dead, with its reason.
        if (packet.dstEid !== dst.eid || packet.receiver !== receiver) return null;
        const { messageId: id, kind } = identifyMessage(packet.message);
        return {
          id: `layerzero:${packet.guid}`,
          ...observedOn(route, log),
          transport: 'layerzero',
          transportId: packet.guid,
          messageId: id,
          kind,
          payload: PAYLOAD.encode({ encoded, options }),
          sequence: { path: `${packet.srcEid}:${packet.sender}:${packet.dstEid}:${packet.receiver}`, nonce: packet.nonce },
        };
      },
    };
  }

  async plan(row: MessageRow, dst: ChainClient, after?: string, witnesses?: readonly string[]): Promise<DeliveryPlan> {
    const p = this.packetOf(row);
    const lz = this.chainLz(row.dstChain);
    const dvns = this.dvnsOf(row.dstChain);
    // Right after our own mined commit the receive follows without reading the chain again.
    if (after === 'commitVerification') return { kind: 'send', steps: [this.receiveStep(row, p)] };
    // One request to one node: the endpoint's two reads, each DVN's verification, and the head (for the instructions' expiry).
    const [inboundHashRaw, lazyNonceRaw, head, ...lookups] = await dst.rpc.batch<[string, string, { timestamp: string } | null, ...string[]]>([
      { method: 'eth_call', params: [{ to: lz.endpoint, data: inboundPayloadHash.encode([p.receiver, p.srcEid, p.sender, p.nonce]) }, 'latest'] },
      { method: 'eth_call', params: [{ to: lz.endpoint, data: lazyInboundNonce.encode([p.receiver, p.srcEid, p.sender]) }, 'latest'] },
      { method: 'eth_getBlockByNumber', params: ['latest', false] },
      ...dvns.map((d) => ({ method: 'eth_call', params: [{ to: lz.receiveUln302, data: hashLookup.encode([p.headerHash, p.payloadHash, d.address]) }, 'latest'] })),
    ]);
    const inboundHash = inboundPayloadHash.decode(inboundHashRaw)[0] as string;
    const lazyNonce = lazyInboundNonce.decode(lazyNonceRaw)[0] as bigint;

    if (p.nonce <= lazyNonce && inboundHash === ZERO_HASH) return afterDelivery(row, p.message, p.receiver, dst);
    if (inboundHash === p.payloadHash) return { kind: 'send', steps: [this.receiveStep(row, p)] };
    const unverified = dvns.filter((_d, i) => {
      const [submitted, confirmations] = hashLookup.decode(lookups[i] as string) as unknown as [boolean, bigint];
      return !(submitted && confirmations >= BigInt(lz.confirmations));
    });
    if (unverified.length === 0) return { kind: 'send', steps: [this.commitStep(row, p), this.receiveStep(row, p)] };
    // Each DVN signs only what its own source providers served (the verifier's witnesses).
    if (witnesses === undefined) return { kind: 'wait', code: WaitCode.dvnVerification, reason: 'the packet is not verified by its DVNs and was not read from the source in this pass' };
    const unseen = unverified.find((d) => d.providers !== null && !d.providers.some((name) => witnesses.includes(name)));
    if (unseen !== undefined) return { kind: 'wait', code: WaitCode.dvnVerification, reason: `DVN ${unseen.address} signs only what its providers (${unseen.providers?.join(', ')}) served, and none of them has yet` };
    const chainNow = head === null ? Math.floor(Date.now() / 1000) : Number(BigInt(head.timestamp));
    const expiration = BigInt(chainNow + (this.options.instructionTtlSeconds ?? 600));
    const verifies: DeliveryStep[] = [];
    for (const d of unverified) {
      const param = buildDvnExecuteParam({
        vid: await this.vid(row.dstChain, d.address, dst),
        target: lz.receiveUln302,
        callData: encodeVerifyCall(p.header, p.payloadHash, BigInt(lz.confirmations)),
        expiration,
        signers: [d.signer],
      });
      verifies.push({
        step: 'dvnVerify',
        phase: 0,
        // Verified once the last of our DVNs has signed (each is re-read from the chain before the next).
        then: 'finalized',
        tx: { to: d.address, data: encodeDvnExecuteCall([param]), gasLimit: VERIFY_GAS, purpose: 'dvnVerify', messages: [row.id] },
      });
    }
    const last = verifies[verifies.length - 1] as DeliveryStep;
    last.then = 'verified';
    return { kind: 'send', steps: [...(verifies as [DeliveryStep, ...DeliveryStep[]]), this.commitStep(row, p), this.receiveStep(row, p)] };
  }

  private commitStep(row: MessageRow, p: LayerZeroPacket): DeliveryStep {
    const lz = this.chainLz(row.dstChain);
    return {
      step: 'commitVerification',
      phase: 1,
      then: 'verified',
      tx: { to: lz.receiveUln302, data: commitVerification.encode([p.header, p.payloadHash]), gasLimit: COMMIT_GAS, purpose: 'commitVerification', messages: [row.id] },
    };
  }

  /** The endpoint forwards all its gas to the receiver: the packet's gas plus the endpoint's own share. */
  private receiveStep(row: MessageRow, p: LayerZeroPacket): DeliveryStep {
    const lz = this.chainLz(row.dstChain);
    const origin = { srcEid: p.srcEid, sender: p.sender, nonce: p.nonce };
    return {
      step: 'lzReceive',
      phase: 2,
      then: 'submitted',
      tx: {
        to: lz.endpoint,
        data: lzReceive.encode([origin, p.receiver, p.guid, p.message, '0x']),
        value: p.lzReceiveValue,
        ...(p.lzReceiveGas > 0n ? { gasLimit: p.lzReceiveGas + ENDPOINT_RECEIVE_OVERHEAD_GAS } : {}),
        purpose: 'lzReceive',
        messages: [row.id],
      },
    };
  }

  /** DVN.execute never reverts for a failed instruction; it logs it. Returns that reason, if any. */
  stepFailure(step: string, receipt: Receipt, dstChain: string): string | null {
    if (step !== 'dvnVerify') return null;
    const ours = new Set(this.dvnsOf(dstChain).map((d) => d.address.toLowerCase()));
    for (const log of receipt.logs) {
      if (!ours.has(log.address.toLowerCase())) continue;
      const parsed = dvnIface.parseLog({ topics: log.topics, data: log.data });
      if (parsed === null) continue;
      if (parsed.name === 'ExecuteFailed') return `DVN instruction failed: ${this.explainRevert(parsed.args[1] as string).reason}`;
      if (parsed.name === 'VerifySignaturesFailed') return 'DVN instruction failed: signatures rejected (is the DVN signer key one of the DVN\'s signers?)';
      if (parsed.name === 'HashAlreadyUsed') return 'DVN instruction failed: hash already used';
    }
    return null;
  }

  appMessage(row: MessageRow): string {
    return this.packetOf(row).message;
  }

  explainRevert(revertData: string | null): RevertVerdict {
    return revertVerdict(revertData, REVERTS);
  }


  private async vid(chain: string, dvn: string, dst: ChainClient): Promise<number> {
    const key = `${chain}:${dvn}`;
    let v = this.vids.get(key);
    if (v === undefined) {
      const raw = await dst.call(dvn, dvnIface.encodeFunctionData('vid', []));
      v = Number(dvnIface.decodeFunctionResult('vid', raw)[0] as bigint);
      this.vids.set(key, v);
    }
    return v;
  }
}
