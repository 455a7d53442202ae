// Test builders of options quotes and legs; the quote itself is relayer/options/quote.ts.
import { hexlify, randomBytes } from 'ethers';
import type { OptionLeg } from '../../relayer/margin/options.js';

export { legsHash, openArgs, OPTION_QUOTE_TYPES, quoteDomain, quoteDomainSeparator, signQuote, type OptionQuote } from '../../relayer/options/quote.js';

const WAD = 10n ** 18n;

export const freshNonce = (): string => hexlify(randomBytes(32));

/** A leg of `size` units at `strike` whole dollars. */
export const call = (side: 'long' | 'short', strike: bigint, size = WAD): OptionLeg => ({ isCall: true, isLong: side === 'long', strike: strike * WAD, size });
export const put = (side: 'long' | 'short', strike: bigint, size = WAD): OptionLeg => ({ isCall: false, isLong: side === 'long', strike: strike * WAD, size });
