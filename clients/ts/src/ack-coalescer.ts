import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { SubscribeRequestSchema, type SubscribeRequest } from "./gen/sluice/v1/broker_pb.js";
import type { Position } from "./gen/sluice/v1/message_pb.js";

/** The most positions in one request, so a flood of acks never makes one huge frame. */
const MAX_POSITIONS = 10_000;

function position(partition: number, offset: bigint): Position {
  return { $typeName: "sluice.v1.Position", partition, offset };
}

/**
 * Collects the acks, nacks and lease extensions made between two writes and
 * turns them into as few `SubscribeRequest`s as possible: all acks in one
 * request, nacks in one request per distinct delay, extensions in one per
 * distinct deadline (up to 10 000 positions each). `next()` hands them out one
 * at a time so the caller can stop when the stream asks it to wait for
 * 'drain'; what is not taken stays here, bounded by the messages the
 * subscription holds. Extensions come out before acks and nacks, so an
 * extension never reaches the broker after the same message's ack.
 * Pure: no timers, no I/O.
 * @internal
 */
export class AckCoalescer {
  #acks: Position[] = [];
  readonly #nacks = new Map<number, Position[]>();
  readonly #extends = new Map<number, Position[]>();
  #size = 0;

  /** Positions waiting to be written. */
  get size(): number {
    return this.#size;
  }

  /** Records an ack. */
  ack(partition: number, offset: bigint): void {
    this.#acks.push(position(partition, offset));
    this.#size++;
  }

  /** Records a nack with a redelivery delay in ms; a negative delay leaves it unset (the group's retry backoff applies). */
  nack(partition: number, offset: bigint, delayMs: number): void {
    add(this.#nacks, delayMs, position(partition, offset));
    this.#size++;
  }

  /** Records a lease extension to `deadlineMs` from now. */
  extend(partition: number, offset: bigint, deadlineMs: number): void {
    add(this.#extends, deadlineMs, position(partition, offset));
    this.#size++;
  }

  /** Forgets everything recorded. */
  clear(): void {
    this.#acks = [];
    this.#nacks.clear();
    this.#extends.clear();
    this.#size = 0;
  }

  /** Forgets the nacks and extensions recorded, keeping the acks. */
  keepOnlyAcks(): void {
    this.#nacks.clear();
    this.#extends.clear();
    this.#size = this.#acks.length;
  }

  /** Takes the next request to write, or `undefined` when nothing is left. */
  next(): SubscribeRequest | undefined {
    for (const [deadlineMs, positions] of this.#extends) {
      const chunk = take(this.#extends, deadlineMs, positions);
      this.#size -= chunk.length;
      return create(SubscribeRequestSchema, {
        request: { case: "extend", value: { positions: chunk, deadline: durationFromMs(deadlineMs) } },
      });
    }
    if (this.#acks.length > 0) {
      const chunk = this.#acks.length <= MAX_POSITIONS ? this.#acks : this.#acks.slice(0, MAX_POSITIONS);
      this.#acks = chunk === this.#acks ? [] : this.#acks.slice(MAX_POSITIONS);
      this.#size -= chunk.length;
      return create(SubscribeRequestSchema, { request: { case: "ack", value: { positions: chunk } } });
    }
    for (const [delayMs, positions] of this.#nacks) {
      const chunk = take(this.#nacks, delayMs, positions);
      this.#size -= chunk.length;
      return create(SubscribeRequestSchema, {
        request: { case: "nack", value: { positions: chunk, delay: delayMs >= 0 ? durationFromMs(delayMs) : undefined } },
      });
    }
    return undefined;
  }
}

function add(map: Map<number, Position[]>, key: number, p: Position): void {
  const list = map.get(key);
  if (list) list.push(p);
  else map.set(key, [p]);
}

function take(map: Map<number, Position[]>, key: number, positions: Position[]): Position[] {
  if (positions.length <= MAX_POSITIONS) {
    map.delete(key);
    return positions;
  }
  map.set(key, positions.slice(MAX_POSITIONS));
  return positions.slice(0, MAX_POSITIONS);
}
