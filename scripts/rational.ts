// Exact rational arithmetic for the vector generators (scripts/gen-*-vectors.ts): every reference
// formula is evaluated on the real numbers a 1e18 fixed-point integer stands for, and only the
// final result is rounded, per the rule the docs give for it. Shares nothing with relayer/margin
// or the Solidity libraries, which the vectors check.
export const ONE = 10n ** 18n;

/** An exact rational n/d with d > 0. */
export class Q {
  readonly n: bigint;
  readonly d: bigint;
  constructor(n: bigint, d = 1n) {
    if (d === 0n) throw new Error('zero denominator');
    this.n = d < 0n ? -n : n;
    this.d = d < 0n ? -d : d;
  }
  /** A 1e18 fixed-point integer as the real number it stands for. */
  static wad(x: bigint): Q {
    return new Q(x, ONE);
  }
  add(o: Q): Q {
    return new Q(this.n * o.d + o.n * this.d, this.d * o.d);
  }
  sub(o: Q): Q {
    return new Q(this.n * o.d - o.n * this.d, this.d * o.d);
  }
  mul(o: Q): Q {
    return new Q(this.n * o.n, this.d * o.d);
  }
  div(o: Q): Q {
    return new Q(this.n * o.d, this.d * o.n);
  }
  sign(): number {
    return this.n > 0n ? 1 : this.n < 0n ? -1 : 0;
  }
  cmp(o: Q): number {
    return this.sub(o).sign();
  }
  floor(): bigint {
    const q = this.n / this.d;
    return this.n < 0n && q * this.d !== this.n ? q - 1n : q;
  }
  ceil(): bigint {
    return -new Q(-this.n, this.d).floor();
  }
  /** The 1e18 fixed-point integer just below (toward −∞) / above (toward +∞) this real number. */
  wadFloor(): bigint {
    return this.mul(new Q(ONE)).floor();
  }
  wadCeil(): bigint {
    return this.mul(new Q(ONE)).ceil();
  }
}
