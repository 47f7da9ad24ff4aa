import type { Position } from "./gen/sluice/v1/message_pb.js";

/** The most positions in one request, so a flood of acks never makes one huge frame. */
const MAX_POSITIONS = 10_000;

/**
 * One request's worth of verbs, taken from an {@link AckCoalescer}: the
 * positions and the waiters recorded with them (those given, in order).
 * @internal
 */
export type VerbBatch<W> =
  | { readonly verb: "ack"; readonly positions: Position[]; readonly waiters: W[] }
  | { readonly verb: "nack"; readonly positions: Position[]; readonly waiters: W[]; readonly delayMs: number }
  | { readonly verb: "extend"; readonly positions: Position[]; readonly waiters: W[]; readonly deadlineMs: number };

/** Positions with, at the same index, the waiter recorded with each (or undefined). */
interface Bucket<W> {
  positions: Position[];
  waiters: (W | undefined)[];
}

function position(partition: number, offset: bigint): Position {
  return { $typeName: "sluice.v1.Position", partition, offset };
}

/**
 * Collects the acks, nacks and lease extensions made between two writes and
 * turns them into as few batches as possible: all acks in one batch, nacks
 * in one batch per distinct delay, extensions in one per distinct deadline
 * (up to 10 000 positions each). Each verb may carry a waiter `W` (whoever
 * waits for the verb's outcome); a batch hands out the waiters of its
 * positions. `next()` hands batches out one at a time so the caller can stop
 * when its transport asks it to wait; what is not taken stays here, bounded
 * by the messages the caller holds. Extensions come out before acks and
 * nacks, so an extension is never written after the same message's ack.
 * Pure: no timers, no I/O; the wire form is the caller's.
 * @internal
 */
export class AckCoalescer<W = never> {
  #acks: Bucket<W> = { positions: [], waiters: [] };
  readonly #nacks = new Map<number, Bucket<W>>();
  readonly #extends = new Map<number, Bucket<W>>();
  #size = 0;

  /** Positions waiting to be taken. */
  get size(): number {
    return this.#size;
  }

  /** Records an ack. */
  ack(partition: number, offset: bigint, waiter?: W): void {
    this.#acks.positions.push(position(partition, offset));
    this.#acks.waiters.push(waiter);
    this.#size++;
  }

  /** Records a nack with a redelivery delay in ms; a negative delay leaves it unset (the group's retry backoff applies). */
  nack(partition: number, offset: bigint, delayMs: number, waiter?: W): void {
    add(this.#nacks, delayMs, position(partition, offset), waiter);
    this.#size++;
  }

  /** Records a lease extension to `deadlineMs` from now. */
  extend(partition: number, offset: bigint, deadlineMs: number, waiter?: W): void {
    add(this.#extends, deadlineMs, position(partition, offset), waiter);
    this.#size++;
  }

  /** Forgets everything recorded; returns the waiters that were recorded with it, for the caller to settle. */
  clear(): W[] {
    const dropped = [...defined(this.#acks.waiters), ...this.#dropNacksAndExtends()];
    this.#acks = { positions: [], waiters: [] };
    this.#size = 0;
    return dropped;
  }

  /** Forgets the nacks and extensions recorded, keeping the acks; returns the waiters of what it forgot. */
  keepOnlyAcks(): W[] {
    const dropped = this.#dropNacksAndExtends();
    this.#size = this.#acks.positions.length;
    return dropped;
  }

  /** Takes the next batch, or `undefined` when nothing is left. */
  next(): VerbBatch<W> | undefined {
    for (const [deadlineMs, bucket] of this.#extends) {
      const chunk = this.#take(this.#extends, deadlineMs, bucket);
      return { verb: "extend", ...chunk, deadlineMs };
    }
    if (this.#acks.positions.length > 0) {
      const bucket = this.#acks;
      if (bucket.positions.length <= MAX_POSITIONS) {
        this.#acks = { positions: [], waiters: [] };
        this.#size -= bucket.positions.length;
        return { verb: "ack", positions: bucket.positions, waiters: defined(bucket.waiters) };
      }
      const { chunk, rest } = split(bucket);
      this.#acks = rest;
      this.#size -= chunk.positions.length;
      return { verb: "ack", positions: chunk.positions, waiters: defined(chunk.waiters) };
    }
    for (const [delayMs, bucket] of this.#nacks) {
      const chunk = this.#take(this.#nacks, delayMs, bucket);
      return { verb: "nack", ...chunk, delayMs };
    }
    return undefined;
  }

  #take(map: Map<number, Bucket<W>>, key: number, bucket: Bucket<W>): { positions: Position[]; waiters: W[] } {
    let chunk = bucket;
    if (bucket.positions.length <= MAX_POSITIONS) {
      map.delete(key);
    } else {
      const parts = split(bucket);
      map.set(key, parts.rest);
      chunk = parts.chunk;
    }
    this.#size -= chunk.positions.length;
    return { positions: chunk.positions, waiters: defined(chunk.waiters) };
  }

  #dropNacksAndExtends(): W[] {
    const dropped: W[] = [];
    for (const bucket of [...this.#nacks.values(), ...this.#extends.values()]) dropped.push(...defined(bucket.waiters));
    this.#nacks.clear();
    this.#extends.clear();
    return dropped;
  }
}

function add<W>(map: Map<number, Bucket<W>>, key: number, p: Position, waiter: W | undefined): void {
  const bucket = map.get(key);
  if (bucket) {
    bucket.positions.push(p);
    bucket.waiters.push(waiter);
  } else {
    map.set(key, { positions: [p], waiters: [waiter] });
  }
}

function split<W>(bucket: Bucket<W>): { chunk: Bucket<W>; rest: Bucket<W> } {
  return {
    chunk: { positions: bucket.positions.slice(0, MAX_POSITIONS), waiters: bucket.waiters.slice(0, MAX_POSITIONS) },
    rest: { positions: bucket.positions.slice(MAX_POSITIONS), waiters: bucket.waiters.slice(MAX_POSITIONS) },
  };
}

function defined<W>(waiters: readonly (W | undefined)[]): W[] {
  const out: W[] = [];
  for (const w of waiters) if (w !== undefined) out.push(w);
  return out;
}
