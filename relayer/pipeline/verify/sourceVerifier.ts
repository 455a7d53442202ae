// Verify, part one: before the relayer signs or vouches for a message (the DVN's verification, the
// check that a VAA is the message the vault published), the finalized receipt of its source
// transaction is read from every independent provider of the source chain and compared by
// content — emitter, path, nonce, payload, block hash. One lying or lagging provider can delay a
// message; it cannot change what is signed.
import { createHash } from 'node:crypto';
import type { Log, Receipt } from '../../chains/client.js';
import { ProviderReader, providersOf, type ProviderReceipt } from '../../chains/providers.js';
import { DEFAULT_VERIFY_QUORUM, type Config } from '../../config/schema.js';
import { HoldCode } from '../../messages/status.js';
import type { MessageRow, NewMessage } from '../../store/store.js';
import { routeNamed, type SourceWatch, type Transport } from '../../transports/transport.js';
import type { EventBus } from '../events.js';

export type SourceVerdict =
  /** A quorum of providers served exactly the stored message, and none served anything else; `witnesses` name them. */
  | { kind: 'agreed'; witnesses: string[] }
  /**
   * The operator released a disagreement and a quorum, with no provider dissenting, serves
   * another content than the one stored: the stored observation was wrong; this is the truth.
   */
  | { kind: 'corrected'; message: NewMessage }
  /** Too few providers can vote yet (behind, unreachable): look again later. */
  | { kind: 'unknown'; reason: string }
  /**
   * A quorum of providers, each final past the message's block, has no such transaction (and none
   * serves it): the observation came from a lying provider. It is orphaned: a rescan (the next
   * nonce's gap) brings the real message back.
   */
  | { kind: 'absent'; reason: string }
  /** Providers serve different contents: nothing may be signed; an operator must look. */
  | { kind: 'disagreement'; code: typeof HoldCode.sourceDisagreement; reason: string };

export interface SourceVerifierDeps {
  config: Config;
  transport: (name: string) => Transport;
  events: EventBus;
}

/** The content the providers are compared on (everything a signature or a delivery depends on), as a digest. */
function contentOf(m: Pick<NewMessage, 'id' | 'payload' | 'srcTx' | 'srcBlockHash' | 'logIndex'>): string {
  return createHash('sha256').update(JSON.stringify([m.id, m.payload.toLowerCase(), m.srcTx.toLowerCase(), m.srcBlockHash.toLowerCase(), m.logIndex])).digest('base64');
}

function matchesFilter(log: Log, watch: SourceWatch): boolean {
  const addresses = (Array.isArray(watch.filter.address) ? watch.filter.address : [watch.filter.address]).map((a) => a.toLowerCase());
  if (!addresses.includes(log.address.toLowerCase())) return false;
  return watch.filter.topics.every((t, i) => t === null || (Array.isArray(t) ? t : [t]).some((x) => x.toLowerCase() === log.topics[i]?.toLowerCase()));
}

/** The message `id` as a successful receipt carries it, or null when the receipt does not carry it. */
function messageIn(receipt: Receipt, id: string, watch: SourceWatch): NewMessage | null {
  if (receipt.status !== 1) return null;
  for (const log of receipt.logs) {
    if (!matchesFilter(log, watch)) continue;
    let m: NewMessage | null;
    try {
      m = watch.parse(log);
    } catch {
      continue; // a log that is not a message of this route
    }
    if (m?.id === id) return m;
  }
  return null;
}

/** Messages in flight at once, about: enough to skip re-reading one that waits (memory stays flat). */
const AGREED_CACHE_SIZE = 1_000;

export class SourceVerifier {
  private readonly providers = new Map<string, ProviderReader[]>();
  private readonly watches = new Map<string, SourceWatch>();
  /** Contents already agreed, with their witnesses (a message waiting for its VAA is checked once, not at every retry). */
  private readonly agreed = new Map<string, string[]>();

  constructor(private readonly deps: SourceVerifierDeps) {}

  private providersOf(chain: string): ProviderReader[] {
    let p = this.providers.get(chain);
    if (p === undefined) {
      const c = this.deps.config.chains[chain];
      if (c === undefined) throw new Error(`unknown chain ${chain}`);
      p = providersOf(chain, c).map((x) => new ProviderReader(x));
      this.providers.set(chain, p);
    }
    return p;
  }

  private watchOf(row: MessageRow): SourceWatch {
    let w = this.watches.get(row.route);
    if (w === undefined) {
      w = this.deps.transport(row.transport).sourceWatch(routeNamed(this.deps.config, row.route).name);
      this.watches.set(row.route, w);
    }
    return w;
  }

  private quorumOf(chain: string): number {
    return this.deps.config.chains[chain]?.verifyQuorum ?? DEFAULT_VERIFY_QUORUM;
  }

  /** The critical alert of a message its providers do not bear out (a fatal log line and a metric subscribe to it). */
  private alert(row: MessageRow, votes: readonly Vote[], dissenting: readonly Vote[], reason: string): void {
    this.deps.events.emit({ type: 'verify.disagreement', chain: row.srcChain, route: row.route, id: row.id, providers: votes.map((v) => v.provider), dissenting: dissenting.map((v) => v.provider), reason });
  }

  /** Reads the source transaction from every provider and compares what each serves with the stored row. */
  async verify(row: MessageRow): Promise<SourceVerdict> {
    const stored = contentOf(row);
    const known = this.agreed.get(stored);
    if (known !== undefined) return { kind: 'agreed', witnesses: known };
    const watch = this.watchOf(row);
    const answers = await Promise.all(this.providersOf(row.srcChain).map((p) => p.finalReceipt(row.srcTx, row.srcBlock)));
    const quorum = this.quorumOf(row.srcChain);
    const votes = answers.map((a) => voteOf(a, row.id, watch));
    const same = votes.filter((v) => v.kind === 'content' && v.key === stored);
    const other = votes.filter((v): v is Extract<Vote, { kind: 'content' }> => v.kind === 'content' && v.key !== stored);

    if (other.length === 0 && same.length >= quorum) {
      const witnesses = same.map((v) => v.provider);
      // Remembered only once every provider has served it: a lagging one may still be some verifier's witness.
      if (witnesses.length === votes.length) {
        if (this.agreed.size >= AGREED_CACHE_SIZE) this.agreed.delete(this.agreed.keys().next().value as string);
        this.agreed.set(stored, witnesses);
      }
      return { kind: 'agreed', witnesses };
    }
    const absent = votes.filter((v) => v.kind === 'absent');
    if (same.length === 0 && other.length === 0 && absent.length >= quorum) {
      const reason = `${absent.length} providers of ${row.srcChain} (${absent.map((a) => a.provider).join(', ')}) call block ${row.srcBlock} final and have no transaction ${row.srcTx}: the observation was not the chain's`;
      this.alert(row, votes, absent, reason);
      return { kind: 'absent', reason };
    }
    // After an operator's release: a quorum that agrees with itself, and no provider with the stored content, is the truth.
    const released = row.holdCode === HoldCode.sourceDisagreement;
    const first = other[0];
    if (released && same.length === 0 && first !== undefined && first.message !== null && other.every((o) => o.key === first.key) && other.length >= quorum)
      return { kind: 'corrected', message: first.message };
    if (other.length > 0 || (absent.length > 0 && same.length > 0)) {
      const describe = (v: Vote): string => v.kind === 'unknown' ? `${v.provider}: unknown (${v.why})` : v.kind === 'absent' ? `${v.provider}: no such transaction in its final chain` : `${v.provider}: ${v.key === stored ? 'the stored message' : v.message === null ? 'no such message in a successful receipt' : `other content (${v.message.payload.slice(0, 80)}…)`}`;
      const reason = `the providers of ${row.srcChain} disagree on ${row.id} in ${row.srcTx}: ${votes.map(describe).join('; ')}; nothing was signed`;
      this.alert(row, votes, [...other, ...absent], reason);
      return { kind: 'disagreement', code: HoldCode.sourceDisagreement, reason };
    }
    const unknown = votes.filter((v): v is Extract<Vote, { kind: 'unknown' }> => v.kind === 'unknown');
    if (absent.length > 0) unknown.push(...absent.map((a) => ({ provider: a.provider, kind: 'unknown' as const, why: 'has no such transaction' })));
    return {
      kind: 'unknown',
      reason: `${same.length} of the ${quorum} providers needed served ${row.srcChain}'s final receipt of ${row.srcTx}${unknown.length === 0 ? '' : ` (${unknown.map((u) => `${u.provider} ${u.why}`).join('; ')})`}`,
    };
  }
}

type Vote =
  | { provider: string; kind: 'content'; key: string; message: NewMessage | null }
  | { provider: string; kind: 'absent' }
  | { provider: string; kind: 'unknown'; why: string };

/** A final receipt is a vote for the content it carries; one without the message (or failed) is a vote against. */
function voteOf(a: ProviderReceipt, id: string, watch: SourceWatch): Vote {
  if (a.kind === 'unknown') return { provider: a.provider, kind: 'unknown', why: a.why };
  if (a.kind === 'absent') return { provider: a.provider, kind: 'absent' };
  const message = messageIn(a.receipt, id, watch);
  return { provider: a.provider, kind: 'content', key: message === null ? `absent:${a.receipt.blockHash}:${a.receipt.status}` : contentOf(message), message };
}
