// A LayerZero v2 packet as the relayer keeps it: decoded from the source endpoint's PacketSent
// event with @layerzerolabs/lz-v2-utilities, with the executor gas its options ask for.
import { Options, PacketV1Codec } from '@layerzerolabs/lz-v2-utilities';
import { AbiCoder, getAddress, id } from 'ethers';
import { ErrorCode, IsorelayError } from '../../errors/base.js';

export const PACKET_SENT_TOPIC = id('PacketSent(bytes,bytes,address)');

export interface LayerZeroPacket {
  encoded: string;
  options: string;
  header: string;
  headerHash: string;
  payloadHash: string;
  guid: string;
  message: string;
  nonce: bigint;
  srcEid: number;
  /** bytes32 form, as the endpoint keys its paths. */
  sender: string;
  dstEid: number;
  receiver: string;
  lzReceiveGas: bigint;
  lzReceiveValue: bigint;
}

/** Decodes the data of a PacketSent log: (bytes encodedPayload, bytes options, address sendLibrary). */
export function packetFromLogData(data: string): { encoded: string; options: string } {
  const [encoded, options] = AbiCoder.defaultAbiCoder().decode(['bytes', 'bytes', 'address'], data) as unknown as [string, string];
  return { encoded, options };
}

export function decodePacket(encoded: string, options: string): LayerZeroPacket {
  let codec: PacketV1Codec;
  try {
    codec = PacketV1Codec.from(encoded);
    if (codec.version() !== 1) throw new Error(`packet version ${codec.version()}`);
  } catch (cause) {
    throw new IsorelayError(ErrorCode.MESSAGE_MALFORMED, 'not a LayerZero v1 packet', { cause });
  }
  let gas = 0n;
  let value = 0n;
  try {
    const opt = Options.fromOptions(options).decodeExecutorLzReceiveOption();
    if (opt !== undefined) {
      gas = BigInt(opt.gas);
      value = BigInt(opt.value);
    }
  } catch {
    // Options the executor cannot read leave gas at 0: delivery then uses the estimate alone.
  }
  return {
    encoded,
    options,
    header: codec.header(),
    headerHash: codec.headerHash(),
    payloadHash: codec.payloadHash(),
    guid: codec.guid(),
    message: codec.message(),
    nonce: BigInt(codec.nonce()),
    srcEid: codec.srcEid(),
    sender: codec.sender(),
    dstEid: codec.dstEid(),
    receiver: getAddress(codec.receiverAddressB20()),
    lzReceiveGas: gas,
    lzReceiveValue: value,
  };
}
