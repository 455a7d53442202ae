// What an attester signs (RELIABILITY 10, 11): a keeper asks for a signature over a price range;
// the attester, its own key in its own process, reconciles the market itself from its own reads
// and signs only a request that its own reconciliation agrees with. A keeper that lies, or that
// read a lying node, cannot get an attester's signature on a range the attester does not see.
import type { TypedDataDomain } from 'ethers';
import type { ReconciledPrice } from '../oracle/reconcile.js';
import type { PriceAttestation } from './attestation.js';

const BPS = 10_000n;

export interface AttesterView {
  /** keccak256 of the market's name. */
  marketId: string;
  /** The attester's own reconciliation of the market, and the time (seconds) it read at. */
  own: ReconciledPrice;
  now: bigint;
  /** Largest distance allowed between what is asked and what the attester sees (the market's maxDeviationBps). */
  maxDeviationBps: bigint;
  /** Longest life of an attestation it signs (seconds). */
  maxTtlSeconds: bigint;
  /** EVM chain ids whose feeds agreed in the attester's own reconciliation. */
  chainIds: readonly bigint[];
  /** The one domain it signs for: the engine chain's PriceAttestations, from the attester's own config. */
  domain: TypedDataDomain;
}

const within = (asked: bigint, seen: bigint, bps: bigint): boolean => (asked > seen ? asked - seen : seen - asked) * BPS <= bps * seen;

/** Why the attester refuses to sign `a`, or null when it signs. */
export function refusalOf(a: PriceAttestation, v: AttesterView): string | null {
  if (a.market.toLowerCase() !== v.marketId.toLowerCase()) return 'the attestation is for another market';
  if (!(a.low <= a.median && a.median <= a.high) || a.low <= 0n) return 'the range is not ordered low ≤ median ≤ high, or not positive';
  if (!within(a.median, v.own.median, v.maxDeviationBps)) return `the median ${a.median} is more than ${v.maxDeviationBps} bps from this attester's ${v.own.median}`;
  if (!within(a.low, v.own.low, v.maxDeviationBps)) return `the low ${a.low} is more than ${v.maxDeviationBps} bps from this attester's ${v.own.low}`;
  if (!within(a.high, v.own.high, v.maxDeviationBps)) return `the high ${a.high} is more than ${v.maxDeviationBps} bps from this attester's ${v.own.high}`;
  // The asked range must contain what the attester sees (within a tenth of the deviation bound, for
  // a feed that moved between the two reads): a long is liquidated at `high`, a short at `low`, so a
  // narrower range would liquidate at a price no agreeing chain gives.
  const slack = (v.own.median * v.maxDeviationBps) / (10n * BPS);
  if (a.high + slack < v.own.high) return `the high ${a.high} is below this attester's ${v.own.high}: it would liquidate a long at a price no agreeing chain gives`;
  if (a.low > v.own.low + slack) return `the low ${a.low} is above this attester's ${v.own.low}: it would liquidate a short at a price no agreeing chain gives`;
  // Nor much wider: an expired option settles at the range's price worst for its trader, so a range
  // stretched on the trader's losing side would settle it at a price no agreeing chain gives.
  if (a.high > v.own.high + slack) return `the high ${a.high} is above this attester's ${v.own.high}: it would settle an option at a price no agreeing chain gives`;
  if (a.low + slack < v.own.low) return `the low ${a.low} is below this attester's ${v.own.low}: it would settle an option at a price no agreeing chain gives`;
  if (a.timestamp > v.now + 30n) return 'the attestation is stamped in the future';
  if (a.timestamp + v.maxTtlSeconds < v.now) return 'the attestation is stamped too long ago';
  if (a.deadline < a.timestamp || a.deadline - a.timestamp > v.maxTtlSeconds) return `the deadline is more than ${v.maxTtlSeconds} s after the timestamp`;
  if (a.chains.length === 0 || a.chains.some((c) => !v.chainIds.includes(c))) return 'the attestation names a chain whose feed did not agree in this attester\'s reconciliation';
  for (let i = 1; i < a.chains.length; i++) if ((a.chains[i] as bigint) <= (a.chains[i - 1] as bigint)) return 'the chains are not strictly increasing';
  return null;
}
