// The Wormhole core's LogMessagePublished event, as the relayer reads it from the source chain.
import { AbiCoder, getAddress, id, zeroPadValue } from 'ethers';

export const LOG_MESSAGE_PUBLISHED_TOPIC = id('LogMessagePublished(address,uint64,uint32,bytes,uint8)');

export interface PublishedMessage {
  sender: string;
  sequence: bigint;
  nonce: number;
  payload: string;
  consistencyLevel: number;
}

/** topics[1] is the sender; data is (uint64 sequence, uint32 nonce, bytes payload, uint8 consistencyLevel). */
export function decodePublished(topics: readonly string[], data: string): PublishedMessage {
  const [sequence, nonce, payload, consistencyLevel] = AbiCoder.defaultAbiCoder().decode(['uint64', 'uint32', 'bytes', 'uint8'], data) as unknown as [
    bigint, bigint, string, bigint,
  ];
  return { sender: getAddress('0x' + (topics[1] ?? '').slice(26)), sequence, nonce: Number(nonce), payload, consistencyLevel: Number(consistencyLevel) };
}

/** A Wormhole emitter: the address left-padded to 32 bytes, as 64 hex digits without 0x. */
export function emitterHex(address: string): string {
  return zeroPadValue(address, 32).slice(2).toLowerCase();
}
