// Options quotes as EngineOptions checks them (docs/options.md): the EIP-712 OptionQuote a market
// maker signs for one trader, position, market, expiry and set of legs; its domain (one engine on
// one chain); the hash of the legs; and the openStrategy arguments of a signed quote.
import { AbiCoder, TypedDataEncoder, keccak256, type Signer, type TypedDataDomain } from 'ethers';
import type { OptionLeg } from '../margin/options.js';

export interface OptionQuote {
  trader: string;
  positionId: bigint;
  market: string;
  expiry: bigint;
  legs: readonly OptionLeg[];
  /** USD 1e18 the trader pays (< 0: a credit). */
  premium: bigint;
  deadline: bigint;
  nonce: string;
}

export const OPTION_QUOTE_TYPES = {
  OptionQuote: [
    { name: 'trader', type: 'address' },
    { name: 'positionId', type: 'uint256' },
    { name: 'market', type: 'bytes32' },
    { name: 'expiry', type: 'uint64' },
    { name: 'legsHash', type: 'bytes32' },
    { name: 'premium', type: 'int256' },
    { name: 'deadline', type: 'uint64' },
    { name: 'nonce', type: 'bytes32' },
  ],
};

/** The engine's quote domain: a quote signed for it is valid on no other engine or chain. */
export function quoteDomain(chainId: bigint, engine: string): TypedDataDomain {
  return { name: 'IsolatedMarginEngine', version: '1', chainId, verifyingContract: engine };
}

/** keccak256(abi.encode(legs)), legs as (bool isCall, bool isLong, uint256 strike, uint256 size)[]. */
export function legsHash(legs: readonly OptionLeg[]): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(['tuple(bool,bool,uint256,uint256)[]'], [legs.map((l) => [l.isCall, l.isLong, l.strike, l.size])]));
}

function typedValue(q: OptionQuote): Record<string, unknown> {
  return { trader: q.trader, positionId: q.positionId, market: q.market, expiry: q.expiry, legsHash: legsHash(q.legs), premium: q.premium, deadline: q.deadline, nonce: q.nonce };
}

export function signQuote(q: OptionQuote, signer: Signer, domain: TypedDataDomain): Promise<string> {
  return signer.signTypedData(domain, OPTION_QUOTE_TYPES, typedValue(q));
}

export function quoteDomainSeparator(domain: TypedDataDomain): string {
  return TypedDataEncoder.hashDomain(domain);
}

/** The openStrategy arguments of a quote and its signature (legs as plain structs). */
export function openArgs(q: OptionQuote, signature: string): unknown[] {
  return [q.positionId, q.market, q.expiry, q.legs.map((l) => ({ ...l })), q.premium, q.deadline, q.nonce, signature];
}
