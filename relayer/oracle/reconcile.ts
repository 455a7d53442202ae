// Oracle reconciliation across chains (DESIGN.md "Oracle reconciliation", RELIABILITY.md rule 11).
// Pure: no I/O, no clock. Every reading is either a source or excluded with one reason; the
// result is ok only when `quorum` fresh sources agree within `maxDeviationBps` of their median.
// Fail closed: anything unknown, inconsistent or missing excludes the source.

export const WAD = 10n ** 18n;
const BPS = 10_000n;

/** Why a reading is not used, checked in this order (the first that applies is reported). */
export const EXCLUSION_REASONS = [
  'read-failed', // the RPC read failed (reading.error)
  'no-policy', // the policy has no entry for the chain, or says it has no sequencer feed while it has one
  'duplicate-chain', // a second reading of a chain already seen: one chain is one source
  'unfinished-round', // answeredInRound < roundId, or updatedAt == 0
  'non-positive', // answer <= 0, or 0 once normalised to 1e18
  'out-of-bounds', // answer <= minAnswer or answer >= maxAnswer (the aggregator clamps at its bounds)
  'stale', // now - updatedAt > heartbeat
  'sequencer-unknown', // the policy expects a sequencer feed and the reading has none
  'sequencer-down', // the L2 sequencer reports down
  'sequencer-grace', // the sequencer is up but came back less than the grace period ago
  'deviation', // further than maxDeviationBps from the median of the fresh sources
] as const;
export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];

export const FAILURE_REASONS = ['no-quorum', 'no-agreeing-quorum'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export interface SequencerStatus {
  down: boolean;
  /** When the current status began (seconds). */
  startedAt: bigint;
}

/** One chain's price feed as read (raw units), with its sequencer feed where the chain has one. */
export interface FeedReading {
  chain: string;
  answer: bigint;
  decimals: number;
  roundId: bigint;
  answeredInRound: bigint;
  startedAt: bigint;
  updatedAt: bigint;
  minAnswer: bigint;
  maxAnswer: bigint;
  /** null: the chain has no sequencer feed; undefined: not read. */
  sequencer?: SequencerStatus | null;
  /** The read failed; the other fields are meaningless. */
  error?: string;
  /** The timestamp of the block the reading was taken at, when the reader fetched it. */
  blockTimestamp?: bigint;
}

export interface ChainFeedPolicy {
  /** The feed's own heartbeat: older answers are stale. */
  heartbeatSeconds: number;
  /** Grace after the sequencer comes back up; null = the chain has no sequencer feed. */
  sequencerGraceSeconds: number | null;
}

export interface ReconcilePolicy {
  /** Sources needed, before and after the deviation filter (an integer >= 1). */
  quorum: number;
  /** Largest allowed |price - median| / median, in basis points (inclusive). */
  maxDeviationBps: number;
  /** Per chain; a reading of a chain without an entry is excluded ('no-policy'). */
  chains: Readonly<Record<string, ChainFeedPolicy>>;
}

export interface PriceSource {
  chain: string;
  /** The answer normalised to 1e18. */
  price: bigint;
}

export interface Exclusion {
  chain: string;
  reason: ExclusionReason;
  detail: string;
}

export interface ReconciledPrice {
  ok: true;
  /** The median of the agreeing sources (1e18; an even count takes the floor of the two middles' mean). */
  median: bigint;
  low: bigint;
  high: bigint;
  /** (high - low) / median in basis points, rounded up. */
  spreadBps: bigint;
  sources: PriceSource[];
  excluded: Exclusion[];
}

export interface ReconcileFailure {
  ok: false;
  reason: FailureReason;
  detail: string;
  /** The sources that were still in when the quorum failed. */
  sources: PriceSource[];
  excluded: Exclusion[];
}

export type Reconciliation = ReconciledPrice | ReconcileFailure;

/** `answer` with `decimals` decimals as a 1e18 fixed-point value, exact, rounding down (toward zero) past 18 decimals. */
export function normalizeTo1e18(answer: bigint, decimals: number): bigint {
  if (!Number.isInteger(decimals) || decimals < 0) throw new RangeError(`decimals must be a non-negative integer, got ${decimals}`);
  return decimals <= 18 ? answer * 10n ** BigInt(18 - decimals) : answer / 10n ** BigInt(decimals - 18);
}

/** Median of a non-empty list: the middle one, or for an even count floor((a + b) / 2) of the two middles. */
export function medianOf(values: readonly bigint[]): bigint {
  if (values.length === 0) throw new RangeError('median of no values');
  const s = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = s.length >> 1;
  const upper = s[mid] as bigint;
  if (s.length % 2 === 1) return upper;
  const lower = s[mid - 1] as bigint;
  return floorDiv(lower + upper, 2n);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

function checkPolicy(policy: ReconcilePolicy): void {
  if (!Number.isSafeInteger(policy.quorum) || policy.quorum < 1) throw new RangeError(`quorum must be an integer >= 1, got ${policy.quorum}`);
  if (!Number.isSafeInteger(policy.maxDeviationBps) || policy.maxDeviationBps < 0) throw new RangeError(`maxDeviationBps must be an integer >= 0, got ${policy.maxDeviationBps}`);
  for (const [chain, p] of Object.entries(policy.chains)) {
    if (!Number.isSafeInteger(p.heartbeatSeconds) || p.heartbeatSeconds <= 0) throw new RangeError(`${chain}: heartbeatSeconds must be an integer > 0, got ${p.heartbeatSeconds}`);
    if (p.sequencerGraceSeconds !== null && (!Number.isSafeInteger(p.sequencerGraceSeconds) || p.sequencerGraceSeconds < 0))
      throw new RangeError(`${chain}: sequencerGraceSeconds must be an integer >= 0 or null, got ${p.sequencerGraceSeconds}`);
  }
}

/** The first rule that excludes the reading, or its normalised price. */
function screen(r: FeedReading, policy: ReconcilePolicy, now: bigint, seen: ReadonlySet<string>): { reason: ExclusionReason; detail: string } | { price: bigint } {
  if (r.error !== undefined) return { reason: 'read-failed', detail: r.error };
  const p = Object.hasOwn(policy.chains, r.chain) ? policy.chains[r.chain] : undefined;
  if (p === undefined) return { reason: 'no-policy', detail: `no feed policy for chain ${r.chain}` };
  if (seen.has(r.chain)) return { reason: 'duplicate-chain', detail: `a second reading of ${r.chain}` };
  if (r.updatedAt === 0n || r.answeredInRound < r.roundId)
    return { reason: 'unfinished-round', detail: `round ${r.roundId} answered in round ${r.answeredInRound}, updatedAt ${r.updatedAt}` };
  if (r.answer <= 0n) return { reason: 'non-positive', detail: `answer ${r.answer}` };
  if (r.answer <= r.minAnswer || r.answer >= r.maxAnswer)
    return { reason: 'out-of-bounds', detail: `answer ${r.answer} not strictly inside (${r.minAnswer}, ${r.maxAnswer})` };
  const age = now - r.updatedAt;
  if (age > BigInt(p.heartbeatSeconds)) return { reason: 'stale', detail: `updated ${age} s ago, heartbeat ${p.heartbeatSeconds} s` };
  if (r.sequencer === undefined || r.sequencer === null) {
    if (p.sequencerGraceSeconds !== null) return { reason: 'sequencer-unknown', detail: `the policy expects a sequencer feed on ${r.chain} and none was read` };
  } else {
    if (r.sequencer.down) return { reason: 'sequencer-down', detail: `down since ${r.sequencer.startedAt}` };
    if (p.sequencerGraceSeconds === null) return { reason: 'no-policy', detail: `${r.chain} has a sequencer feed but the policy gives no grace period` };
    const up = now - r.sequencer.startedAt;
    if (up < BigInt(p.sequencerGraceSeconds)) return { reason: 'sequencer-grace', detail: `up for ${up} s, grace ${p.sequencerGraceSeconds} s` };
  }
  const price = normalizeTo1e18(r.answer, r.decimals);
  if (price <= 0n) return { reason: 'non-positive', detail: `answer ${r.answer} with ${r.decimals} decimals is 0 at 1e18` };
  return { price };
}

/**
 * Reconciles one market's readings from several chains at `nowSeconds`: screen every reading,
 * require `quorum` fresh sources, take their median, drop those beyond `maxDeviationBps` of it,
 * require `quorum` again, and report the agreeing sources' median, low, high and spread.
 */
export function reconcilePrices(readings: readonly FeedReading[], policy: ReconcilePolicy, nowSeconds: bigint): Reconciliation {
  checkPolicy(policy);
  const excluded: Exclusion[] = [];
  const fresh: PriceSource[] = [];
  const seen = new Set<string>();
  for (const r of readings) {
    const s = screen(r, policy, nowSeconds, seen);
    seen.add(r.chain);
    if ('price' in s) fresh.push({ chain: r.chain, price: s.price });
    else excluded.push({ chain: r.chain, reason: s.reason, detail: s.detail });
  }
  if (fresh.length < policy.quorum)
    return { ok: false, reason: 'no-quorum', detail: `${fresh.length} fresh source(s), quorum ${policy.quorum}`, sources: fresh, excluded };

  const m = medianOf(fresh.map((s) => s.price));
  const maxDev = BigInt(policy.maxDeviationBps);
  const agreeing: PriceSource[] = [];
  for (const s of fresh) {
    const dev = s.price > m ? s.price - m : m - s.price;
    // |p - m| / m > maxDev / 1e4, exactly.
    if (dev * BPS > maxDev * m) excluded.push({ chain: s.chain, reason: 'deviation', detail: `${s.price} is ${ceilDiv(dev * BPS, m)} bps from the median ${m} (max ${maxDev})` });
    else agreeing.push(s);
  }
  if (agreeing.length < policy.quorum)
    return { ok: false, reason: 'no-agreeing-quorum', detail: `${agreeing.length} source(s) within ${maxDev} bps of the median ${m}, quorum ${policy.quorum}`, sources: agreeing, excluded };

  const prices = agreeing.map((s) => s.price);
  const median = medianOf(prices);
  let low = median;
  let high = median;
  for (const p of prices) {
    if (p < low) low = p;
    if (p > high) high = p;
  }
  return { ok: true, median, low, high, spreadBps: ceilDiv((high - low) * BPS, median), sources: agreeing, excluded };
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

/**
 * The mark price: an EMA over medians, `prev + alpha·(median − prev)` with `alpha` in 1e18
 * (0 < alpha <= 1e18). The step is truncated toward zero, so the mark never overshoots the
 * median. No previous mark (null) starts at the median.
 */
export function markPriceEma(prev: bigint | null, median: bigint, alpha: bigint): bigint {
  if (alpha <= 0n || alpha > WAD) throw new RangeError(`alpha must be in (0, 1e18], got ${alpha}`);
  if (prev === null) return median;
  return prev + ((median - prev) * alpha) / WAD;
}
