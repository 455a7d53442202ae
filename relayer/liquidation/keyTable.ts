// Interns position keys to dense integer ids without a JS string or object per key (pure).
// A canonical key ('0x' + 64 lowercase hex, or the same 64 hex digits bare) is stored as
// 32 bytes in one Uint32Array and found through an open-addressing hash table (linear probing,
// backward-shift deletion) of Int32 ids; anything else falls back to a plain Map.
// Freed ids are reused. docs/liquidation-index.md.

const KIND_FREE = 0;
const KIND_HEX_0X = 1;
const KIND_HEX_BARE = 2;
const KIND_OTHER = 3;
const EMPTY = 0; // table slots hold id + 1

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

export class KeyTable {
  private cap = 1024;
  private words = new Uint32Array(this.cap * 8);
  private bytes = Buffer.from(this.words.buffer);
  private kinds = new Uint8Array(this.cap);
  private nextFree = new Int32Array(this.cap);
  private freeHead = -1;
  private highWater = 0;
  private count = 0;
  private table = new Int32Array(2048);
  private mask = 2047;
  private readonly other = new Map<string, number>();
  private readonly otherKeys = new Map<number, string>();
  private readonly scratch = new Uint32Array(8);
  private readonly scratchBytes = new Uint8Array(this.scratch.buffer);
  private scratchKind = KIND_FREE;

  /** Number of interned keys. */
  get size(): number {
    return this.count;
  }

  /** One past the largest id ever handed out (ids are < this). */
  get idBound(): number {
    return this.highWater;
  }

  /** The id of key, or −1. */
  lookup(key: string): number {
    if (!this.parse(key)) return this.other.get(key) ?? -1;
    const slot = this.findSlot(this.hashScratch());
    const e = this.table[slot] ?? EMPTY;
    if (e === EMPTY) return -1;
    const id = e - 1;
    return this.kinds[id] === this.scratchKind ? id : -1;
  }

  /** The id of key, interning it if new. */
  intern(key: string): number {
    const found = this.lookup(key); // leaves the parse in scratch
    if (found >= 0) return found;
    const id = this.allocate();
    this.count++;
    if (this.scratchKind === KIND_OTHER) {
      this.kinds[id] = KIND_OTHER;
      this.other.set(key, id);
      this.otherKeys.set(id, key);
      return id;
    }
    this.kinds[id] = this.scratchKind;
    this.words.set(this.scratch, id * 8);
    if ((this.count - this.other.size) * 2 > this.table.length) this.rehash(this.table.length * 2);
    this.table[this.findSlot(this.hashScratch())] = id + 1;
    return id;
  }

  /** The key string of a live id. */
  keyOf(id: number): string {
    const kind = this.kinds[id];
    if (kind === KIND_HEX_0X) return '0x' + this.bytes.toString('hex', id * 32, id * 32 + 32);
    if (kind === KIND_HEX_BARE) return this.bytes.toString('hex', id * 32, id * 32 + 32);
    const key = this.otherKeys.get(id);
    if (key === undefined) throw new RangeError(`KeyTable: id ${id} is not live`);
    return key;
  }

  /** Forgets a live id; the id may be handed out again. */
  release(id: number): void {
    const kind = this.kinds[id];
    if (kind === KIND_FREE || kind === undefined) return;
    if (kind === KIND_OTHER) {
      const key = this.otherKeys.get(id);
      if (key !== undefined) this.other.delete(key);
      this.otherKeys.delete(id);
    } else {
      this.deleteFromTable(id);
    }
    this.kinds[id] = KIND_FREE;
    this.nextFree[id] = this.freeHead;
    this.freeHead = id;
    this.count--;
  }

  /** Parses key into scratch; false when it is not a canonical 32-byte hex key. */
  private parse(key: string): boolean {
    let off: number;
    if (key.length === 66 && key.charCodeAt(0) === 48 && key.charCodeAt(1) === 120) {
      off = 2;
      this.scratchKind = KIND_HEX_0X;
    } else if (key.length === 64) {
      off = 0;
      this.scratchKind = KIND_HEX_BARE;
    } else {
      this.scratchKind = KIND_OTHER;
      return false;
    }
    const b = this.scratchBytes;
    for (let i = 0; i < 32; i++) {
      const hi = nibble(key.charCodeAt(off + 2 * i));
      const lo = nibble(key.charCodeAt(off + 2 * i + 1));
      if (hi < 0 || lo < 0) {
        this.scratchKind = KIND_OTHER;
        return false;
      }
      b[i] = (hi << 4) | lo;
    }
    return true;
  }

  private hashScratch(): number {
    return this.hashWords(this.scratch, 0);
  }

  private hashWords(w: Uint32Array, base: number): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < 8; i++) {
      h = Math.imul(h ^ (w[base + i] ?? 0), 0x9e3779b1);
      h ^= h >>> 15;
    }
    h = Math.imul(h ^ (h >>> 13), 0x85ebca6b);
    return (h ^ (h >>> 16)) >>> 0;
  }

  /** The slot holding the scratch key (same kind and bytes), or the first empty slot. */
  private findSlot(hash: number): number {
    const t = this.table;
    const w = this.words;
    const s = this.scratch;
    let i = hash & this.mask;
    for (;;) {
      const e = t[i] ?? EMPTY;
      if (e === EMPTY) return i;
      const base = (e - 1) * 8;
      if (
        w[base] === s[0] && w[base + 1] === s[1] && w[base + 2] === s[2] && w[base + 3] === s[3] &&
        w[base + 4] === s[4] && w[base + 5] === s[5] && w[base + 6] === s[6] && w[base + 7] === s[7] &&
        this.kinds[e - 1] === this.scratchKind
      ) {
        return i;
      }
      i = (i + 1) & this.mask;
    }
  }

  private deleteFromTable(id: number): void {
    const t = this.table;
    const mask = this.mask;
    let i = this.hashWords(this.words, id * 8) & mask;
    while (t[i] !== id + 1) {
      if (t[i] === EMPTY) return;
      i = (i + 1) & mask;
    }
    t[i] = EMPTY;
    // Backward shift: pull later entries of the probe run into the hole where allowed.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const e = t[j] ?? EMPTY;
      if (e === EMPTY) return;
      const home = this.hashWords(this.words, (e - 1) * 8) & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        t[i] = e;
        t[j] = EMPTY;
        i = j;
      }
    }
  }

  private rehash(size: number): void {
    const old = this.table;
    this.table = new Int32Array(size);
    this.mask = size - 1;
    for (let k = 0; k < old.length; k++) {
      const e = old[k] ?? EMPTY;
      if (e === EMPTY) continue;
      let i = this.hashWords(this.words, (e - 1) * 8) & this.mask;
      while (this.table[i] !== EMPTY) i = (i + 1) & this.mask;
      this.table[i] = e;
    }
  }

  private allocate(): number {
    if (this.freeHead >= 0) {
      const id = this.freeHead;
      this.freeHead = this.nextFree[id] ?? -1;
      return id;
    }
    if (this.highWater === this.cap) {
      this.cap *= 2;
      const words = new Uint32Array(this.cap * 8);
      words.set(this.words);
      this.words = words;
      this.bytes = Buffer.from(words.buffer);
      const kinds = new Uint8Array(this.cap);
      kinds.set(this.kinds);
      this.kinds = kinds;
      const nextFree = new Int32Array(this.cap);
      nextFree.set(this.nextFree);
      this.nextFree = nextFree;
    }
    return this.highWater++;
  }
}
