import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { AckCoalescer, type VerbBatch } from "./ack-coalescer.js";
import { AckConfirmations } from "./ack-confirmations.js";
import type { StreamHandle } from "./bidi-stream.js";
import { Code } from "./code.js";
import { SubscribeRequestSchema, type SubscribeRequest } from "./gen/sluice/v1/broker_pb.js";
import { SluiceError } from "./sluice-error.js";
import { newWaiter, settledNow, type Waiter } from "./waiter.js";

/**
 * Writes a subscription's acks, nacks and extensions to its current stream:
 * what is recorded during one event-loop turn goes out as one write per verb
 * kind on the next turn, only once the broker confirmed `open`, and only while
 * the stream takes writes (after `write` returns false it waits for
 * `drained()`); meanwhile the verbs wait in the coalescer, bounded by the
 * messages the subscription holds.
 *
 * With `confirm`, each ack request carries a fresh `ack_id` and the promises
 * of its acks resolve when the broker's `ack_confirmation` for that id comes
 * (`confirmed`), or reject when the stream breaks first.
 * @internal
 */
export class AckWriter {
  /** Where verbs are recorded; waiters only in confirm mode, with acks. */
  readonly verbs = new AckCoalescer<Waiter>();
  readonly #confirm: boolean;
  readonly #confirmations = new AckConfirmations();
  #stream: StreamHandle<SubscribeRequest> | undefined;
  #writable = false;
  #ready = false;
  #scheduled = false;
  #closed: SluiceError | undefined;

  /** @param confirm - whether acks wait for the broker's confirmation */
  constructor(confirm = false) {
    this.#confirm = confirm;
  }

  /** Whether written acks wait for their confirmation. */
  get awaitingConfirmation(): boolean {
    return this.#confirmations.size > 0;
  }

  /**
   * Records an ack. Resolves at once without confirm mode; with it, once the
   * broker confirmed the ack durable, and rejects when the stream breaks
   * before that or the writer is closed.
   */
  ack(partition: number, offset: bigint): Promise<void> {
    if (this.#closed) return this.#confirm ? Promise.reject(this.#closed) : settledNow;
    if (!this.#confirm) {
      this.verbs.ack(partition, offset);
      this.schedule();
      return settledNow;
    }
    const [promise, waiter] = newWaiter();
    this.verbs.ack(partition, offset, waiter);
    this.schedule();
    return promise;
  }

  /** Starts writing to a new stream: sends `open` now, verbs once `ready()`. */
  open(stream: StreamHandle<SubscribeRequest>, openRequest: SubscribeRequest): void {
    this.#stream = stream;
    this.#ready = false;
    this.#writable = stream.write(openRequest);
  }

  /** The broker confirmed `open`: verbs may go out. */
  ready(): void {
    this.#ready = true;
    this.flush();
  }

  /** The stream takes writes again. */
  drained(): void {
    this.#writable = true;
    this.flush();
  }

  /** The broker confirmed the acks of request `ackId` durable. */
  confirmed(ackId: bigint): void {
    this.#confirmations.confirmed(ackId);
  }

  /** Resolves once every ack written so far is confirmed, or its stream broke. */
  allConfirmed(): Promise<void> {
    return this.#confirmations.idle();
  }

  /**
   * The stream ended. Its leases are gone, so nacks and extensions still
   * waiting are dropped; acks not yet written are kept for the next stream,
   * where they spare redeliveries of messages the broker leases to it again
   * (or are ignored). Acks written and not confirmed are rejected, with the
   * code of `cause` (UNAVAILABLE when the broker ended the stream cleanly):
   * the broker may or may not have applied them.
   */
  detach(cause: SluiceError | undefined): void {
    this.#stream = undefined;
    this.#ready = false;
    for (const w of this.verbs.keepOnlyAcks()) w.resolve();
    if (this.#confirmations.size === 0) return;
    const why = cause ? `: ${cause.message}` : "";
    this.#confirmations.failAll(
      new SluiceError(cause?.code ?? Code.Unavailable, `the stream ended before the broker confirmed the ack, which may be lost${why}`, {
        cause,
      }),
    );
  }

  /** The subscription is over: rejects what waits (with `error`, or a closed-subscription error); later acks reject at once. */
  close(error: SluiceError | undefined): void {
    this.#closed =
      error ?? new SluiceError(Code.FailedPrecondition, "the subscription closed before the ack was confirmed; it may be lost");
    for (const w of this.verbs.clear()) w.reject(this.#closed);
    this.#confirmations.failAll(this.#closed);
  }

  /** Writes on the next event-loop turn, once per turn however many verbs are recorded. */
  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.flush();
    });
  }

  /** Writes recorded verbs while the stream takes them. */
  flush(): void {
    const stream = this.#stream;
    if (!stream || !this.#ready) return;
    while (this.#writable) {
      const batch = this.verbs.next();
      if (!batch) return;
      this.#writable = stream.write(this.#request(batch));
    }
  }

  /**
   * Writes everything recorded, even past the stream's high-water mark: the
   * last acks before a close are few, and dropping them means redelivery.
   */
  flushAll(): void {
    const stream = this.#stream;
    if (!stream || !this.#ready) return;
    for (let b = this.verbs.next(); b; b = this.verbs.next()) stream.write(this.#request(b));
  }

  #request(batch: VerbBatch<Waiter>): SubscribeRequest {
    const positions = batch.positions;
    switch (batch.verb) {
      case "ack":
        return create(SubscribeRequestSchema, {
          request: { case: "ack", value: { positions, ackId: this.#confirmations.track(batch.waiters) } },
        });
      case "nack":
        for (const w of batch.waiters) w.resolve();
        return create(SubscribeRequestSchema, {
          request: { case: "nack", value: { positions, delay: batch.delayMs >= 0 ? durationFromMs(batch.delayMs) : undefined } },
        });
      case "extend":
        for (const w of batch.waiters) w.resolve();
        return create(SubscribeRequestSchema, {
          request: { case: "extend", value: { positions, deadline: durationFromMs(batch.deadlineMs) } },
        });
    }
  }
}
