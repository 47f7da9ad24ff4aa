import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { AckCoalescer, type VerbBatch } from "./ack-coalescer.js";
import {
  AckRequestSchema,
  ExtendDeadlineRequestSchema,
  NackRequestSchema,
  type AckRequest,
  type ExtendDeadlineRequest,
  type NackRequest,
} from "./gen/sluice/v1/broker_pb.js";
import type { Logger } from "./logger.js";
import type { ReceivedMessage, Settler } from "./received-message.js";
import { SluiceError } from "./sluice-error.js";
import { newWaiter, type Waiter } from "./waiter.js";

/** The unary calls a {@link FetchSettler} makes; each rejects with a {@link SluiceError}. @internal */
export interface SettleCalls {
  ack(request: AckRequest): Promise<unknown>;
  nack(request: NackRequest): Promise<unknown>;
  extendDeadline(request: ExtendDeadlineRequest): Promise<unknown>;
}

/**
 * The settle backend of messages fetched from one topic and group: the verbs
 * made during one event-loop turn go out together on the next, as one unary
 * `Ack` call for all acks, one `Nack` per distinct delay and one
 * `ExtendDeadline` per distinct deadline (at most 10 000 positions each).
 * Each verb's promise resolves when its call answered and rejects, with the
 * call's error, when it failed (the failure is also logged). The calls are
 * independent: an extension racing its message's ack is ignored by the broker.
 * @internal
 */
export class FetchSettler implements Settler {
  readonly topic: string;
  readonly group: string;
  readonly #calls: SettleCalls;
  readonly #logger: Logger;
  readonly #verbs = new AckCoalescer<Waiter>();
  readonly #inflight = new Set<Promise<void>>();
  #scheduled = false;

  constructor(topic: string, group: string, calls: SettleCalls, logger: Logger) {
    this.topic = topic;
    this.group = group;
    this.#calls = calls;
    this.#logger = logger;
  }

  ack(message: ReceivedMessage): Promise<void> {
    return this.#record((w) => this.#verbs.ack(message.partition, message.offset, w));
  }

  nack(message: ReceivedMessage, delayMs: number): Promise<void> {
    return this.#record((w) => this.#verbs.nack(message.partition, message.offset, delayMs, w));
  }

  extend(message: ReceivedMessage, deadlineMs: number): Promise<void> {
    return this.#record((w) => this.#verbs.extend(message.partition, message.offset, deadlineMs, w));
  }

  /** Sends what is recorded now and resolves once every call made so far has answered. Never rejects. */
  async idle(): Promise<void> {
    this.#flush();
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  #record(add: (waiter: Waiter) => void): Promise<void> {
    const [promise, waiter] = newWaiter();
    add(waiter);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#flush();
      });
    }
    return promise;
  }

  #flush(): void {
    for (let b = this.#verbs.next(); b; b = this.#verbs.next()) this.#send(b);
  }

  #send(batch: VerbBatch<Waiter>): void {
    const done = this.#call(batch).then(
      () => {
        for (const w of batch.waiters) w.resolve();
      },
      (err: unknown) => {
        const error = SluiceError.from(err);
        this.#logger.warn(
          { topic: this.topic, group: this.group, verb: batch.verb, positions: batch.positions.length, code: error.code, err: error.message },
          "sluice fetched-message verb failed",
        );
        for (const w of batch.waiters) w.reject(error);
      },
    );
    this.#inflight.add(done);
    void done.finally(() => this.#inflight.delete(done));
  }

  async #call(batch: VerbBatch<Waiter>): Promise<unknown> {
    const { topic, group } = this;
    const positions = batch.positions;
    switch (batch.verb) {
      case "ack":
        return this.#calls.ack(create(AckRequestSchema, { topic, group, positions }));
      case "nack":
        return this.#calls.nack(
          create(NackRequestSchema, { topic, group, positions, delay: batch.delayMs >= 0 ? durationFromMs(batch.delayMs) : undefined }),
        );
      case "extend":
        return this.#calls.extendDeadline(create(ExtendDeadlineRequestSchema, { topic, group, positions, deadline: durationFromMs(batch.deadlineMs) }));
    }
  }
}
