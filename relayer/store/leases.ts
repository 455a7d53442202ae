// One instance's view of what it holds: the named leases it wants (its gas key, a source stream's
// scanner, the keeper) and the messages its stages have claimed, each with its fence and how long
// it is valid by this process's monotonic clock. A heartbeat extends them; whatever it cannot
// extend is lost at once. Nothing is signed for work this book does not hold with time to spare:
// an instance paused past its leases (SIGSTOP, a long GC, a frozen VM) wakes up fenced.
import { performance } from 'node:perf_hooks';
import { ErrorCode, errorSummary, isIsorelayError } from '../errors/base.js';
import { LeaseLostError, type Fence, type Store } from './store.js';

interface Held {
  fence: Fence;
  /** Monotonic ms after which this process no longer counts on it. */
  validUntil: number;
}

export interface LeaseBookOptions {
  /** Unique per process run: a restarted instance is a new owner. */
  owner: string;
  /** How long a lease lasts without a heartbeat. */
  ttlMs: number;
  /** A monotonic clock in ms (tests may drive it). */
  clock?: () => number;
}

export interface LeaseBookState {
  owner: string;
  held: string[];
  waiting: string[];
  claims: number;
  storeError: string | null;
  /** Transactions refused because a lease was lost (the instance was fenced). */
  fencedSends: number;
}

export class LeaseBook {
  readonly owner: string;
  readonly ttlMs: number;
  /** Left on a lease when a transaction may still be signed under it. */
  readonly marginMs: number;
  private readonly clock: () => number;
  private readonly named = new Map<string, Held | null>();
  private readonly claims = new Map<string, Held>();
  private storeError: string | null = null;
  private fenced = 0;

  constructor(private readonly store: Store, o: LeaseBookOptions) {
    this.owner = o.owner;
    this.ttlMs = o.ttlMs;
    this.marginMs = Math.floor(o.ttlMs / 3);
    this.clock = o.clock ?? (() => performance.now());
  }

  /** How often `heartbeat` should run: several times per lease. */
  get heartbeatMs(): number {
    return Math.max(50, Math.floor(this.ttlMs / 5));
  }

  /** Keeps trying for a named lease at every heartbeat. */
  want(name: string): void {
    if (!this.named.has(name)) this.named.set(name, null);
  }

  /** The fence of a named lease while it is valid here, with the margin. */
  held(name: string): Fence | undefined {
    const h = this.named.get(name);
    return h !== undefined && h !== null && h.validUntil - this.clock() > this.marginMs ? h.fence : undefined;
  }

  /** Registers a claim made by `claim` (requested at `requestedAt`, this clock). */
  claimed(id: string, fence: Fence, requestedAt: number): void {
    this.claims.set(id, { fence, validUntil: requestedAt + this.ttlMs });
  }

  /** The claim ended (its step returned): forgets it and gives it back in the store. */
  async release(id: string): Promise<void> {
    const h = this.claims.get(id);
    this.claims.delete(id);
    if (h !== undefined) await this.store.releaseClaim(id, h.fence).catch(() => undefined);
  }

  now(): number {
    return this.clock();
  }

  /**
   * Extends every claim and every named lease wanted, all at once (one slow renewal, such as a
   * lease row a scan commit holds, does not hold up the others); what the store refuses is dropped,
   * and what it cannot answer stays as it was until its own time runs out.
   */
  async heartbeat(): Promise<void> {
    const started = this.clock();
    const errors: string[] = [];
    const claims = [...this.claims].map(([id, h]) => ({ id, fence: h.fence }));
    const renewClaims = async () => {
      if (claims.length === 0) return;
      const kept = await this.store.renewClaims(claims, this.ttlMs);
      for (const c of claims) {
        const h = this.claims.get(c.id);
        if (h === undefined || h.fence.epoch !== c.fence.epoch) continue;
        if (kept.has(c.id)) h.validUntil = started + this.ttlMs;
        else this.claims.delete(c.id);
      }
    };
    const renewNamed = async (name: string) => {
      const lease = await this.store.acquireLease(name, this.owner, this.ttlMs);
      this.named.set(name, lease === null ? null : { fence: lease, validUntil: started + this.ttlMs });
    };
    const results = await Promise.allSettled([renewClaims(), ...[...this.named.keys()].map(renewNamed)]);
    // The store away is what readiness reports; a renewal that waited too long for a row lock is not.
    for (const r of results) if (r.status === 'rejected' && isIsorelayError(r.reason, ErrorCode.STORE_UNAVAILABLE)) errors.push(errorSummary(r.reason));
    // What was held stays held until its own time runs out: a short database blip fences nothing.
    this.storeError = errors[0] ?? null;
  }

  /**
   * Throws LeaseLostError unless every message claim and named lease is held here with time to
   * spare and the store agrees. Called just before a transaction is signed.
   */
  async assertSendable(messages: readonly string[], names: readonly string[]): Promise<void> {
    const now = this.clock();
    const fences: { id: string; fence: Fence }[] = [];
    for (const id of messages) {
      const h = this.claims.get(id);
      if (h === undefined || h.validUntil - now <= this.marginMs) return this.refuse(id);
      fences.push({ id, fence: h.fence });
    }
    for (const name of names) if (this.held(name) === undefined) return this.refuse(name);
    if (fences.length > 0 && !(await this.store.claimsHeld(fences, this.marginMs))) return this.refuse(messages.join(','));
    // The store round trip took time too.
    if (fences.some((f) => (this.claims.get(f.id)?.validUntil ?? 0) - this.clock() <= this.marginMs / 2)) return this.refuse(messages.join(','));
  }

  /**
   * Whether every claim and named lease is still held by this process's clock, with half the
   * margin to spare: checked synchronously just before a signed transaction goes out.
   */
  holdsLocally(messages: readonly string[], names: readonly string[]): boolean {
    const now = this.clock();
    const half = this.marginMs / 2;
    for (const id of messages) {
      const h = this.claims.get(id);
      if (h === undefined || h.validUntil - now <= half) return this.refused(false);
    }
    for (const name of names) {
      const h = this.named.get(name);
      if (h === undefined || h === null || h.validUntil - now <= half) return this.refused(false);
    }
    return true;
  }

  private refused(v: false): false {
    this.fenced++;
    return v;
  }

  /** The messages of `ids` no longer held here with time to spare. */
  lost(ids: readonly string[]): string[] {
    const now = this.clock();
    return ids.filter((id) => {
      const h = this.claims.get(id);
      return h === undefined || h.validUntil - now <= this.marginMs;
    });
  }

  private refuse(what: string): never {
    this.fenced++;
    throw new LeaseLostError(what);
  }

  /** Gives every named lease back (a clean stop), so that another instance takes over at once. */
  async releaseAll(): Promise<void> {
    for (const [name, h] of this.named) {
      if (h !== null) await this.store.releaseLease(name, this.owner).catch(() => undefined);
      this.named.set(name, null);
    }
  }

  state(): LeaseBookState {
    const names = [...this.named.keys()];
    return {
      owner: this.owner,
      held: names.filter((n) => this.held(n) !== undefined),
      waiting: names.filter((n) => this.held(n) === undefined),
      claims: this.claims.size,
      storeError: this.storeError,
      fencedSends: this.fenced,
    };
  }
}
