// What a delivery's revert means, decided the same way for every transport: the engine's and the
// vault's own refusals (no retry can change them), plus each transport's permanent and "wait first" errors.
import { WaitCode } from '../messages/reasons.js';
import type { DecodedError } from '../chains/abiFunction.js';
import type { RevertVerdict } from './transport.js';

export const ENGINE_REJECTIONS: Readonly<Record<string, string>> = {
  AlreadyProcessed: 'the lockId was already credited: replayed message',
  OriginMismatch: 'the message names another origin than the authenticated sender',
  CollateralNotAllowed: 'the collateral token is not allowed on the engine',
  UnsupportedKind: 'the engine does not accept this message kind',
  UnsupportedVersion: 'unsupported wire format version',
  UnknownKind: 'unknown message kind',
  BadMessageLength: 'malformed message (length)',
  NonCanonicalWord: 'malformed message (non-canonical word)',
  ZeroAmount: 'malformed message (zero amount)',
  // The vault's refusals of a RELEASE or SEIZE.
  AlreadyExecuted: 'the vault already executed this RELEASE/SEIZE: replayed message',
  ExceedsOutstanding: 'the vault holds less of the token than the message moves (an invariant breach: investigate)',
  NoInsuranceFund: 'the vault has no insurance fund to SEIZE to',
  WrongTarget: 'the VAA is addressed to another chain',
  NotForThisEngine: 'the CREDIT names another engine than this one',
  NotForThisVault: 'the RELEASE/SEIZE names another vault than this one',
  BadSeizeContext: 'malformed message (SEIZE market and price)',
};

/** The engine's refusals that pass by themselves (not an attempt: the message waits). */
export const ENGINE_WAITS: Readonly<Record<string, WaitEntry>> = {
  EnginePaused: { code: WaitCode.enginePaused, text: 'the engine is paused: the CREDIT waits, verified, until it is unpaused' },
};

/** A refusal that passes by itself: its code, and what must happen first. */
export interface WaitEntry {
  code: WaitCode;
  text: string;
}

export interface RevertTables {
  decode: (data: string) => DecodedError | null;
  /** Error name → why no retry can succeed. */
  permanent: Readonly<Record<string, string>>;
  /** Error name → what must happen first (not an attempt: the message waits). */
  wait?: Readonly<Record<string, WaitEntry>>;
}

/** Unknown or undecodable reverts are transient: retried with backoff, never dead on a guess. */
export function revertVerdict(revertData: string | null, t: RevertTables): RevertVerdict {
  if (revertData === null || revertData === '0x') return { outcome: 'transient', reason: 'reverted without data' };
  const described = t.decode(revertData);
  if (described === null) return { outcome: 'transient', reason: `reverted with unknown data ${revertData.slice(0, 10)}` };
  const signature = `${described.name}(${described.args.map(String).join(', ')})`;
  const waiting = t.wait?.[described.name];
  if (waiting !== undefined) return { outcome: 'wait', code: waiting.code, reason: `${waiting.text} [${signature}]` };
  const why = t.permanent[described.name];
  return why === undefined ? { outcome: 'transient', reason: signature } : { outcome: 'permanent', reason: `${why} [${signature}]` };
}
