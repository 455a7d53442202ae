// Per-market index of open positions by liquidation price (1e18 bigint), for the keeper:
// on each price tick, candidates(price) returns every long with price ≤ its liquidation price
// and every short with price ≥ its liquidation price, exactly, in O(log n + k) (+ a bounded
// append buffer). No JS object and no bigint per position: see docs/liquidation-index.md.
import { splitClamped, splitExact, splitOut } from './exactPrice.js';
import { KeyTable } from './keyTable.js';

export type PositionSide = 'long' | 'short';

const LONG = 1;
const SHORT = 2;
const SIDE_MASK = 3;
const OVERFLOW = 4; // |liquidation price| ≥ 2^100: kept as an exact bigint in a side Map
const NO_LOC = -1;
/** Default number of pending (unsorted) entries a query scans before it merges them. */
const DEFAULT_BUFFER_LIMIT = 1024;

export interface PositionIndexOptions {
  /** Pending inserts a query scans linearly before it merges them (default 1024). */
  bufferLimit?: number;
}

/** One side's entries: a sorted run plus an unsorted append buffer (struct of arrays). */
class Book {
  // Sorted ascending by (f, r), i.e. by the exact liquidation price; id −1 marks a tombstone.
  f = new Float64Array(0);
  r = new Float64Array(0);
  id = new Int32Array(0);
  len = 0;
  dead = 0;
  // Append buffer, unsorted; id −1 marks a tombstone.
  bf = new Float64Array(64);
  br = new Float64Array(64);
  bid = new Int32Array(64);
  blen = 0;
  bdead = 0;
  readonly overflow = new Map<number, bigint>();
  constructor(readonly side: number) {}
}

export class PositionIndex {
  private readonly keys = new KeyTable();
  private state = new Uint8Array(1024); // per id: side | OVERFLOW, 0 = absent
  private loc = new Int32Array(1024); // per id: ≥ 0 sorted slot, ≤ −2 buffer slot −2−j, −1 none
  private readonly longs = new Book(LONG);
  private readonly shorts = new Book(SHORT);
  private live = 0;
  private readonly bufferLimit: number;

  constructor(options: PositionIndexOptions = {}) {
    const limit = options.bufferLimit ?? DEFAULT_BUFFER_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('PositionIndex: bufferLimit must be a positive integer');
    this.bufferLimit = limit;
    this.loc.fill(NO_LOC);
  }

  /** Number of indexed positions. */
  get size(): number {
    return this.live;
  }

  /**
   * Inserts or moves a position. A null liquidation price means the position can never be
   * liquidated (for example a long with more collateral than notional): it is removed.
   */
  upsert(positionKey: string, side: PositionSide, liquidationPrice: bigint | null): void {
    if (side !== 'long' && side !== 'short') throw new TypeError(`PositionIndex: bad side ${String(side)}`);
    if (liquidationPrice === null) {
      this.remove(positionKey);
      return;
    }
    if (typeof liquidationPrice !== 'bigint') throw new TypeError('PositionIndex: liquidationPrice must be a bigint or null');
    const s = side === 'long' ? LONG : SHORT;
    const book = s === LONG ? this.longs : this.shorts;
    const exact = splitExact(liquidationPrice);
    let id = this.keys.lookup(positionKey);
    if (id >= 0) {
      if (exact && this.sameEntry(id, s, splitOut.f, splitOut.r)) return;
      this.detach(id);
    } else {
      id = this.keys.intern(positionKey);
      this.ensureIdCapacity(id);
      this.live++;
    }
    if (!exact) {
      book.overflow.set(id, liquidationPrice);
      this.state[id] = s | OVERFLOW;
      this.loc[id] = NO_LOC;
      return;
    }
    this.append(book, id, splitOut.f, splitOut.r);
    this.state[id] = s;
    // Geometric merge: a bulk load costs O(n log n) overall; queries merge smaller buffers.
    if (book.blen >= this.bufferLimit && book.blen >= book.len) this.merge(book);
  }

  /** Removes a position; false when it was not indexed. */
  remove(positionKey: string): boolean {
    const id = this.keys.lookup(positionKey);
    if (id < 0) return false;
    this.detach(id);
    this.keys.release(id);
    this.live--;
    return true;
  }

  /** Whether a position is indexed. */
  has(positionKey: string): boolean {
    return this.keys.lookup(positionKey) >= 0;
  }

  /** Every indexed position's key, in no order: what to read again when the market's maintenance rate moves. */
  positionKeys(): string[] {
    const out: string[] = [];
    for (let id = 0; id < this.state.length; id++) if (this.state[id] !== 0) out.push(this.keys.keyOf(id));
    return out;
  }

  /**
   * Keys of all positions liquidatable at price: longs with price ≤ liquidation price, shorts
   * with price ≥ liquidation price. Exact (bigint semantics). Order unspecified.
   */
  candidates(price: bigint): string[] {
    if (typeof price !== 'bigint') throw new TypeError('PositionIndex: price must be a bigint');
    const out: string[] = [];
    this.prepare(this.longs);
    this.prepare(this.shorts);
    splitClamped(price);
    this.collect(this.longs, price, splitOut.f, splitOut.r, out);
    this.collect(this.shorts, price, splitOut.f, splitOut.r, out);
    return out;
  }

  /** Merges pending inserts and drops tombstones now (e.g. when the keeper is idle). */
  compact(): void {
    this.merge(this.longs);
    this.merge(this.shorts);
  }

  /** Merges a side whose pending buffer or tombstones outgrew their bounds. */
  private prepare(book: Book): void {
    if (book.blen > this.bufferLimit || book.dead > Math.max(this.bufferLimit, book.len >>> 3)) this.merge(book);
  }

  private collect(book: Book, price: bigint, pf: number, pr: number, out: string[]): void {
    const isLong = book.side === LONG;
    const { f, r, id } = book;
    // Longs: the suffix with (f, r) ≥ (pf, pr). Shorts: the prefix with (f, r) ≤ (pf, pr).
    let lo = 0;
    let hi = book.len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const mf = f[mid] as number;
      const before = isLong ? mf < pf || (mf === pf && (r[mid] as number) < pr) : mf < pf || (mf === pf && (r[mid] as number) <= pr);
      if (before) lo = mid + 1;
      else hi = mid;
    }
    const from = isLong ? lo : 0;
    const to = isLong ? book.len : lo;
    for (let i = from; i < to; i++) {
      const k = id[i] as number;
      if (k >= 0) out.push(this.keys.keyOf(k));
    }
    const { bf, br, bid } = book;
    for (let j = 0; j < book.blen; j++) {
      const ef = bf[j] as number;
      const er = br[j] as number;
      const hit = isLong ? ef > pf || (ef === pf && er >= pr) : ef < pf || (ef === pf && er <= pr);
      if (!hit) continue;
      const k = bid[j] as number;
      if (k >= 0) out.push(this.keys.keyOf(k));
    }
    if (book.overflow.size === 0) return;
    for (const [k, liq] of book.overflow) {
      if (isLong ? price <= liq : price >= liq) out.push(this.keys.keyOf(k));
    }
  }

  /** Whether id's live entry is on side s at exactly (f, r). */
  private sameEntry(id: number, s: number, f: number, r: number): boolean {
    if (this.state[id] !== s) return false;
    const book = s === LONG ? this.longs : this.shorts;
    const at = this.loc[id] as number;
    if (at >= 0) return book.f[at] === f && book.r[at] === r;
    if (at <= -2) return book.bf[-2 - at] === f && book.br[-2 - at] === r;
    return false;
  }

  /** Turns id's current entry (if any) into a tombstone. */
  private detach(id: number): void {
    const st = this.state[id] as number;
    if (st === 0) return;
    const book = (st & SIDE_MASK) === LONG ? this.longs : this.shorts;
    const at = this.loc[id] as number;
    if (st & OVERFLOW) {
      book.overflow.delete(id);
    } else if (at >= 0) {
      book.id[at] = -1;
      book.dead++;
    } else if (at <= -2) {
      book.bid[-2 - at] = -1;
      book.bdead++;
    }
    this.state[id] = 0;
    this.loc[id] = NO_LOC;
  }

  private append(book: Book, id: number, f: number, r: number): void {
    const j = book.blen;
    if (j === book.bf.length) {
      const cap = j * 2;
      const bf = new Float64Array(cap);
      bf.set(book.bf);
      const br = new Float64Array(cap);
      br.set(book.br);
      const bid = new Int32Array(cap);
      bid.set(book.bid);
      book.bf = bf;
      book.br = br;
      book.bid = bid;
    }
    book.bf[j] = f;
    book.br[j] = r;
    book.bid[j] = id;
    book.blen = j + 1;
    this.loc[id] = -2 - j;
  }

  /** Sorts the live buffer entries and merges them with the live sorted entries (O(n + b log b)). */
  private merge(book: Book): void {
    if (book.blen === 0 && book.dead === 0) return;
    const loc = this.loc;
    const { bf, br, bid } = book;
    const perm = new Uint32Array(book.blen - book.bdead);
    let m = 0;
    for (let j = 0; j < book.blen; j++) if ((bid[j] as number) >= 0) perm[m++] = j;
    perm.sort((a, b) => (bf[a] as number) - (bf[b] as number) || (br[a] as number) - (br[b] as number));
    // Compact the sorted run in place (drop tombstones), then merge the two sorted runs.
    const { f, r, id } = book;
    let live0 = 0;
    for (let i = 0; i < book.len; i++) {
      const k = id[i] as number;
      if (k < 0) continue;
      f[live0] = f[i] as number;
      r[live0] = r[i] as number;
      id[live0++] = k;
    }
    const n = live0 + m;
    const nf = new Float64Array(n);
    const nr = new Float64Array(n);
    const nid = new Int32Array(n);
    let i = 0;
    let p = 0;
    let w = 0;
    while (i < live0 || p < m) {
      let takeMain = i < live0;
      if (takeMain && p < m) {
        const j = perm[p] as number;
        const mf = f[i] as number;
        const jf = bf[j] as number;
        takeMain = mf < jf || (mf === jf && (r[i] as number) <= (br[j] as number));
      }
      let k: number;
      if (takeMain) {
        k = id[i] as number;
        nf[w] = f[i] as number;
        nr[w] = r[i] as number;
        i++;
      } else {
        const j = perm[p++] as number;
        k = bid[j] as number;
        nf[w] = bf[j] as number;
        nr[w] = br[j] as number;
      }
      nid[w] = k;
      loc[k] = w++;
    }
    book.f = nf;
    book.r = nr;
    book.id = nid;
    book.len = n;
    book.dead = 0;
    book.blen = 0;
    book.bdead = 0;
    if (book.bf.length > 4 * this.bufferLimit) {
      book.bf = new Float64Array(this.bufferLimit);
      book.br = new Float64Array(this.bufferLimit);
      book.bid = new Int32Array(this.bufferLimit);
    }
  }

  private ensureIdCapacity(id: number): void {
    if (id < this.state.length) return;
    let cap = this.state.length * 2;
    while (cap <= id) cap *= 2;
    const state = new Uint8Array(cap);
    state.set(this.state);
    this.state = state;
    const loc = new Int32Array(cap);
    loc.fill(NO_LOC);
    loc.set(this.loc);
    this.loc = loc;
  }
}
