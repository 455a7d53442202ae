// Pure helpers for the real LayerZero DVN's execute(ExecuteParam[]) path: the hash its
// multisig signs, the ordered signatures it expects, and the ReceiveUln302.verify call it makes.
import {
  Interface,
  SigningKey,
  computeAddress,
  getAddress,
  getBytes,
  hashMessage,
  isHexString,
  keccak256,
  solidityPacked,
} from 'ethers';
import { abiFunction } from '../../chains/abiFunction.js';

/** One entry of DVN.execute: the DVN calls `target` with `callData` if its quorum signed it. */
export interface DvnExecuteParam {
  readonly vid: number;
  readonly target: string;
  readonly callData: string;
  readonly expiration: bigint;
  /** quorum × 65 bytes (r ‖ s ‖ v), signers in strictly ascending address order. */
  readonly signatures: string;
}

export interface DvnInstruction {
  readonly vid: number;
  readonly target: string;
  readonly callData: string;
  /** Unix seconds; the DVN skips the instruction once block.timestamp ≥ expiration. */
  readonly expiration: bigint;
}

/** Anything holding a secp256k1 key: an ethers Wallet / HDNodeWallet, or a SigningKey. */
export type DvnSigner = SigningKey | { readonly signingKey: SigningKey };

const DVN_INTERFACE = new Interface([
  'function execute((uint32 vid, address target, bytes callData, uint256 expiration, bytes signatures)[] _params)',
]);
const RECEIVE_ULN_INTERFACE = new Interface([
  'function verify(bytes _packetHeader, bytes32 _payloadHash, uint64 _confirmations)',
]);

const VERIFY = abiFunction(RECEIVE_ULN_INTERFACE, 'verify');
const EXECUTE = abiFunction(DVN_INTERFACE, 'execute');

/** Selector of ReceiveUln302.verify; DVN.execute skips its replay check for this selector. */
export const RECEIVE_ULN_VERIFY_SELECTOR = '0x0223536e';

/**
 * DVN.hashCallData: keccak256(abi.encodePacked(uint32 vid, address target, uint256 expiration,
 * bytes callData)). Note the order: expiration comes before callData.
 */
export function hashDvnInstruction(instruction: DvnInstruction): string {
  return keccak256(
    solidityPacked(
      ['uint32', 'address', 'uint256', 'bytes'],
      [instruction.vid, instruction.target, instruction.expiration, instruction.callData],
    ),
  );
}

function signingKeyOf(signer: DvnSigner): SigningKey {
  return signer instanceof SigningKey ? signer : signer.signingKey;
}

/**
 * Signs an instruction for MultiSig.verifySignatures: each signer signs the EIP-191
 * "\x19Ethereum Signed Message:\n32" digest of the instruction hash; the 65-byte signatures
 * are concatenated in strictly ascending signer address order. Pass exactly `quorum` signers:
 * the DVN rejects any other signature length.
 */
export function signDvnInstruction(instruction: DvnInstruction, signers: readonly DvnSigner[]): string {
  if (signers.length === 0) throw new Error('a DVN instruction needs at least one signer');
  const digest = hashMessage(getBytes(hashDvnInstruction(instruction)));
  const keyed = signers.map((signer) => {
    const key = signingKeyOf(signer);
    return { address: computeAddress(key.publicKey), key };
  });
  keyed.sort((a, b) => compareAddresses(a.address, b.address));
  keyed.forEach(({ address }, i) => {
    const previous = keyed[i - 1];
    if (previous !== undefined && compareAddresses(previous.address, address) === 0) {
      throw new Error(`duplicate DVN signer ${address}: MultiSig requires distinct signers`);
    }
  });
  // Signature.serialized is r ‖ s ‖ v with v ∈ {27, 28} and a low s, which ECDSA.tryRecover accepts.
  return '0x' + keyed.map(({ key }) => key.sign(digest).serialized.slice(2)).join('');
}

/** A complete DVN.execute entry: the instruction plus its quorum signatures. */
export function buildDvnExecuteParam(
  params: DvnInstruction & { readonly signers: readonly DvnSigner[] },
): DvnExecuteParam {
  const instruction: DvnInstruction = {
    vid: params.vid,
    target: getAddress(params.target),
    callData: params.callData,
    expiration: params.expiration,
  };
  return { ...instruction, signatures: signDvnInstruction(instruction, params.signers) };
}

/** Calldata of ReceiveUln302.verify(packetHeader, payloadHash, confirmations). */
export function encodeVerifyCall(packetHeader: string, payloadHash: string, confirmations: bigint): string {
  if (!isHexString(packetHeader, 81)) throw new Error('a v1 packet header is exactly 81 bytes');
  if (!isHexString(payloadHash, 32)) throw new Error('a payload hash is exactly 32 bytes');
  return VERIFY.encode([packetHeader, payloadHash, confirmations]);
}

/** Calldata of DVN.execute(params): several verifications can share one transaction. */
export function encodeDvnExecuteCall(params: readonly DvnExecuteParam[]): string {
  return EXECUTE.encode([
    params.map((param) => [param.vid, param.target, param.callData, param.expiration, param.signatures]),
  ]);
}

function compareAddresses(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
