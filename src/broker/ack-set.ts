/**
 * The acknowledged offsets of one group in one partition: a floor (every
 * offset below it is acknowledged) plus sorted, disjoint, non-adjacent
 * half-open ranges above it. Acks that arrive out of order cost one range per
 * gap, not one entry per message, so a single unacknowledged message below a
 * million acknowledged ones costs a few bytes.
 */
export class AckSet {
  #floor: bigint;
  /** Flattened [start0, end0, start1, end1, ...], all above the floor. */
  #ranges: bigint[] = [];
  #ackedAbove = 0n;

  constructor(floor: bigint, ranges: ReadonlyArray<readonly [bigint, bigint]> = []) {
    this.#floor = floor;
    for (const [s, e] of ranges) this.addRange(s, e);
  }

  /** Every offset below this is acknowledged: the committed offset. */
  get floor(): bigint {
    return this.#floor;
  }

  /** How many offsets at or above the floor are acknowledged. */
  get ackedAbove(): bigint {
    return this.#ackedAbove;
  }

  /** Whether `offset` is acknowledged. */
  has(offset: bigint): boolean {
    if (offset < this.#floor) return true;
    const i = this.#find(offset);
    return i >= 0 && i < this.#ranges.length && this.#ranges[i]! <= offset && offset < this.#ranges[i + 1]!;
  }

  /** Acknowledges `offset`. Returns false when it already was. */
  add(offset: bigint): boolean {
    if (this.has(offset)) return false;
    this.addRange(offset, offset + 1n);
    return true;
  }

  /** Acknowledges [start, end). */
  addRange(start: bigint, end: bigint): void {
    if (start < this.#floor) start = this.#floor;
    if (end <= start) return;
    const r = this.#ranges;
    // Fast paths for what consumers mostly do: ack at the floor, or just
    // above every range (several streams each acking its own run).
    if (start === this.#floor && (r.length === 0 || end < r[0]!)) {
      this.#floor = end;
      return;
    }
    const last = r.length - 1;
    if (last > 0 && start >= r[last]!) {
      if (start === r[last]) r[last] = end;
      else r.push(start, end);
      this.#ackedAbove += end - start;
      return;
    }
    // First range whose end >= start (it may merge with ours).
    let i = this.#find(start);
    if (i < 0) i = 0;
    let j = i;
    let s = start;
    let e = end;
    let removed = 0n;
    while (j < r.length && r[j]! <= e) {
      if (r[j]! < s) s = r[j]!;
      if (r[j + 1]! > e) e = r[j + 1]!;
      removed += r[j + 1]! - r[j]!;
      j += 2;
    }
    r.splice(i, j - i, s, e);
    this.#ackedAbove += e - s - removed;
    if (r[0] === this.#floor) {
      this.#ackedAbove -= r[1]! - r[0]!;
      this.#floor = r[1]!;
      r.splice(0, 2);
    }
  }

  /** Moves the floor up to `offset`, dropping ranges below it. */
  advanceFloor(offset: bigint): void {
    if (offset <= this.#floor) return;
    this.addRange(this.#floor, offset);
  }

  /** The ranges above the floor, as pairs (a copy). */
  ranges(): Array<[bigint, bigint]> {
    const out: Array<[bigint, bigint]> = [];
    for (let i = 0; i < this.#ranges.length; i += 2) out.push([this.#ranges[i]!, this.#ranges[i + 1]!]);
    return out;
  }

  /**
   * The index (even) of the first range whose end is >= offset, or
   * ranges.length when none is.
   */
  #find(offset: bigint): number {
    const r = this.#ranges;
    let lo = 0;
    let hi = r.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (r[mid * 2 + 1]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo * 2;
  }
}
