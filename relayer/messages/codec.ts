// The CREDIT / RELEASE / SEIZE wire format v2 (docs/messages.md): encode, strict decode, ids.
// Byte for byte the same as contracts/libraries/MarginMessages.sol, which is the source of truth.
import { AbiCoder, getAddress, keccak256 } from 'ethers';
import { ErrorCode, IsorelayError } from '../errors/base.js';

export const MESSAGE_VERSION = 2;
export const MessageKind = { CREDIT: 1, RELEASE: 2, SEIZE: 3 } as const;
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];
export const MESSAGE_BYTES = 13 * 32;

export interface MarginMessage {
  version: number;
  kind: MessageKind;
  originChainId: bigint;
  origin: string;
  nonce: bigint;
  trader: string;
  positionId: bigint;
  token: string;
  amount: bigint;
  /** The EVM chain id and address of the contract the message is for: the engine for a CREDIT,
   * the vault for a RELEASE or SEIZE. */
  targetChainId: bigint;
  target: string;
  /** SEIZE only (zero otherwise): the market (0x-prefixed 32 bytes) and the USD price (1e18) it
   * was decided at, which the vault checks against its own chain's oracle. */
  market: string;
  price: bigint;
}

const TUPLE = [
  'uint8', 'uint8', 'uint64', 'address', 'uint64', 'address', 'uint256', 'address', 'uint256',
  'uint64', 'address', 'bytes32', 'uint256',
];
const WORD_BITS = [8, 8, 64, 160, 64, 160, 256, 160, 256, 64, 160, 256, 256];
const coder = AbiCoder.defaultAbiCoder();

export function encodeMessage(m: MarginMessage): string {
  return coder.encode(TUPLE, [
    m.version, m.kind, m.originChainId, m.origin, m.nonce, m.trader, m.positionId, m.token, m.amount,
    m.targetChainId, m.target, m.market, m.price,
  ]);
}

function malformed(reason: string, details: Record<string, unknown> = {}): IsorelayError {
  return new IsorelayError(ErrorCode.MESSAGE_MALFORMED, `malformed message: ${reason}`, { details });
}

/** Strict, in MarginMessages.decode's order: exact length, canonical words, known version and
 * kind, non-zero amount, then market and price non-zero for a SEIZE and zero for anything else. */
export function decodeMessage(hex: string): MarginMessage {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(hex)) throw malformed('not hex');
  const byteLength = (hex.length - 2) / 2;
  if (byteLength !== MESSAGE_BYTES) throw malformed(`length ${byteLength}, expected ${MESSAGE_BYTES}`, { byteLength });
  const words = WORD_BITS.map((_, i) => BigInt('0x' + hex.slice(2 + i * 64, 2 + (i + 1) * 64)));
  words.forEach((w, i) => {
    const bits = WORD_BITS[i] ?? 256;
    if (bits < 256 && w >> BigInt(bits) !== 0n) throw malformed(`word ${i} is not canonical`, { index: i });
  });
  const [version, kind, originChainId, origin, nonce, trader, positionId, token, amount, targetChainId, target, market, price] =
    words as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
  if (version !== BigInt(MESSAGE_VERSION)) throw malformed(`unsupported version ${version}`, { version: Number(version) });
  if (kind < 1n || kind > 3n) throw malformed(`unknown kind ${kind}`, { kind: Number(kind) });
  if (amount === 0n) throw malformed('zero amount');
  // A SEIZE names the market and a non-zero price; nothing else carries either.
  const seize = kind === BigInt(MessageKind.SEIZE);
  if (seize ? market === 0n || price === 0n : market !== 0n || price !== 0n) {
    const expected = seize ? 'a SEIZE needs a non-zero market and price' : 'only a SEIZE carries a market or price';
    throw malformed(`bad seize context for kind ${kind}: ${expected}`, { kind: Number(kind) });
  }
  const addr = (w: bigint) => getAddress('0x' + w.toString(16).padStart(40, '0'));
  return {
    version: Number(version),
    kind: Number(kind) as MessageKind,
    originChainId,
    origin: addr(origin),
    nonce,
    trader: addr(trader),
    positionId,
    token: addr(token),
    amount,
    targetChainId,
    target: addr(target),
    market: '0x' + market.toString(16).padStart(64, '0'),
    price,
  };
}

/** keccak256(abi.encode(uint64 originChainId, address origin, uint64 nonce)); a CREDIT's lockId. */
export function messageId(originChainId: bigint, origin: string, nonce: bigint): string {
  return keccak256(coder.encode(['uint64', 'address', 'uint64'], [originChainId, origin, nonce]));
}

export function kindName(kind: MessageKind): keyof typeof MessageKind {
  const name = (Object.keys(MessageKind) as (keyof typeof MessageKind)[]).find((k) => MessageKind[k] === kind);
  if (name === undefined) throw malformed(`unknown kind ${kind}`);
  return name;
}

/** The message id and kind of a transport payload, or nulls when it is not our wire format (the
 * relayer still delivers it, so that the destination refuses it on chain with its reason). */
export function identifyMessage(payload: string): { messageId: string | null; kind: string | null; nonce: bigint | null } {
  try {
    const m = decodeMessage(payload);
    return { messageId: messageId(m.originChainId, m.origin, m.nonce), kind: kindName(m.kind), nonce: m.nonce };
  } catch {
    return { messageId: null, kind: null, nonce: null };
  }
}
