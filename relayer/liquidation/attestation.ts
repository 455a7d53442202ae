// EIP-712 price attestations as contracts/PriceAttestations.sol checks them: the type, the domain,
// the digest, and signing by a set of attester keys (RELIABILITY rule 10: keys of their own,
// signatures domain-separated so that no other kind of signature can be replayed as one).
import { TypedDataEncoder, type Signer, type TypedDataDomain, type TypedDataField } from 'ethers';

/** A reconciled price range of one market, as the engine's `liquidate` takes it (1e18 prices, seconds). */
export interface PriceAttestation {
  /** keccak256 of the market's name, e.g. id('ETH-USD'). */
  market: string;
  low: bigint;
  high: bigint;
  median: bigint;
  /** When the prices were read (unix seconds, uint64). */
  timestamp: bigint;
  /** EVM chain ids whose feeds agreed, strictly increasing (uint64). */
  chains: readonly bigint[];
  /** The last second at which the attestation may be used (uint64). */
  deadline: bigint;
}

/** PriceAttestations.ATTESTATION_TYPEHASH is keccak256 of exactly this string. */
export const PRICE_ATTESTATION_TYPE =
  'PriceAttestation(bytes32 market,uint256 low,uint256 high,uint256 median,uint64 timestamp,uint64[] chains,uint64 deadline)';

export const PRICE_ATTESTATION_TYPES: Readonly<Record<string, TypedDataField[]>> = Object.freeze({
  PriceAttestation: [
    { name: 'market', type: 'bytes32' },
    { name: 'low', type: 'uint256' },
    { name: 'high', type: 'uint256' },
    { name: 'median', type: 'uint256' },
    { name: 'timestamp', type: 'uint64' },
    { name: 'chains', type: 'uint64[]' },
    { name: 'deadline', type: 'uint64' },
  ],
});

export const ATTESTATION_DOMAIN_NAME = 'isorelay PriceAttestations';
export const ATTESTATION_DOMAIN_VERSION = '1';

/** The domain of one PriceAttestations contract: a signature for it is valid nowhere else. */
export function attestationDomain(chainId: bigint | number, verifyingContract: string): TypedDataDomain {
  return { name: ATTESTATION_DOMAIN_NAME, version: ATTESTATION_DOMAIN_VERSION, chainId, verifyingContract };
}

/** ethers' encoder takes mutable arrays; the attestation's own are readonly. */
function typedValue(a: PriceAttestation): Record<string, unknown> {
  return { ...a, chains: [...a.chains] };
}

/** The digest the attesters sign and PriceAttestations.digestOf returns. */
export function attestationDigest(attestation: PriceAttestation, domain: TypedDataDomain): string {
  return TypedDataEncoder.hash(domain, PRICE_ATTESTATION_TYPES, typedValue(attestation));
}

/**
 * One signature per distinct signer, sorted by signer address ascending: the order the contract
 * requires so that no signer counts twice.
 */
export async function signAttestation(attestation: PriceAttestation, signers: readonly Signer[], domain: TypedDataDomain): Promise<string[]> {
  const bySigner = new Map<bigint, Signer>();
  for (const s of signers) bySigner.set(BigInt(await s.getAddress()), s);
  const ordered = [...bySigner.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const value = typedValue(attestation);
  return Promise.all(ordered.map(([, s]) => s.signTypedData(domain, PRICE_ATTESTATION_TYPES, value)));
}
