import { durationMs } from "@bufbuild/protobuf/wkt";
import { AckWriter } from "./ack-writer.js";
import { AsyncQueue } from "./async-queue.js";
import type { ReconnectOptions } from "./backoff.js";
import type { OpenStream, StreamHandle } from "./bidi-stream.js";
import { Code } from "./code.js";
import { StatusChannel, type ConnectionStatus } from "./connection-status.js";
import type { SubscribeRequest, SubscribeResponse } from "./gen/sluice/v1/broker_pb.js";
import { LeaseRenewer } from "./lease-renewer.js";
import { LeaseTracker } from "./lease-tracker.js";
import type { Logger } from "./logger.js";
import { ReceivedMessage, type Settler } from "./received-message.js";
import { Reconnector } from "./reconnector.js";
import { SluiceError } from "./sluice-error.js";
import { runHandlers } from "./handler-pool.js";
import type { ProcessOptions } from "./subscribe-options.js";
import { settledNow } from "./waiter.js";

/** @internal */
export interface SubscriptionDeps {
  open: OpenStream<SubscribeRequest, SubscribeResponse>;
  openRequest: SubscribeRequest;
  reconnect: ReconnectOptions;
  logger: Logger;
  maxLeaseMs: number;
  /** Whether `openRequest` asked for ack confirmations. */
  confirmAcks?: boolean;
  onClosed?: () => void;
}

/**
 * A consumer of one topic through one consumer group: an async iterable of
 * {@link ReceivedMessage}s, each to be acked, nacked or extended.
 *
 * - `for await (const m of sub)`; `break` (or a throw) closes the
 *   subscription and releases its stream; so does an aborted `signal`.
 * - `process(handler, { concurrency })` runs a handler per message, acking
 *   on success and nacking on a throw.
 * - When the stream breaks it reconnects with jittered backoff and resumes
 *   the group; messages buffered from the broken stream are dropped (the
 *   broker redelivers them). `status()` reports the connection apart from the
 *   data. Errors retrying cannot fix (e.g. ABORTED when the group is deleted)
 *   end the iteration with a {@link SluiceError}.
 * - With the `confirmAcks` option, `message.ack()` resolves once the broker
 *   confirmed the ack durable (acks written together share one confirmation)
 *   and rejects when the stream breaks first: the ack may then be lost.
 *
 * Create with `client.subscribe(topic, group, options)`.
 */
export class Subscription implements AsyncIterable<ReceivedMessage> {
  /** The topic consumed. */
  readonly topic: string;
  /** The consumer group. */
  readonly group: string;
  /** Settles once the subscription is closed: with `undefined`, or the error that ended it. Never rejects. */
  readonly closed: Promise<SluiceError | undefined>;
  readonly #deps: SubscriptionDeps;
  readonly #queue = new AsyncQueue<ReceivedMessage>();
  readonly #acks: AckWriter;
  readonly #leases: LeaseTracker<ReceivedMessage>;
  readonly #renewer: LeaseRenewer<ReceivedMessage>;
  readonly #status = new StatusChannel();
  readonly #reconnector: Reconnector;
  readonly #workers = new Set<Promise<void>>();
  readonly #signal: AbortSignal | undefined;
  #resolveClosed!: (error: SluiceError | undefined) => void;
  #stream: StreamHandle<SubscribeRequest> | undefined;
  #generation = 0;
  #live = 0;
  #ending: (() => void) | undefined;
  #state: "open" | "closing" | "closed" = "open";
  #closing: Promise<void> | undefined;
  #consumerId = "";

  /** @internal Use `client.subscribe(topic, group, options)`. */
  constructor(topic: string, group: string, signal: AbortSignal | undefined, deps: SubscriptionDeps) {
    this.topic = topic;
    this.group = group;
    this.#deps = deps;
    this.#signal = signal;
    this.#acks = new AckWriter(deps.confirmAcks ?? false);
    this.#leases = new LeaseTracker(30_000, deps.maxLeaseMs);
    this.#renewer = new LeaseRenewer(this.#leases, this.#acks);
    this.#reconnector = new Reconnector(deps.reconnect, this.#status, deps.logger, { topic, group, role: "subscriber" });
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    if (signal?.aborted) {
      // Deferred so the creator has the object before it reports closed.
      queueMicrotask(() => this.#finish(undefined));
      return;
    }
    signal?.addEventListener("abort", this.#onAbort, { once: true });
    this.#connect();
  }

  /** The broker's id of the current stream (as `getGroup` lists it); `""` while not connected. */
  get consumerId(): string {
    return this.#consumerId;
  }

  /** The subscription's stream status, from now on; ends when it closes. */
  status(): AsyncIterableIterator<ConnectionStatus> {
    return this.#status.iterate();
  }

  /** Iterates the messages; `break` or `return` closes the subscription. */
  [Symbol.asyncIterator](): AsyncIterableIterator<ReceivedMessage> {
    const iterator: AsyncIterableIterator<ReceivedMessage> = {
      next: () => this.#pull(),
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /**
   * Handles messages with `handler`, `concurrency` at a time: a message is
   * acked when its handler resolves (unless the handler settled it) and
   * nacked when it throws. Resolves when the subscription closes; rejects
   * with the {@link SluiceError} that ended it. Do not `await close()` inside
   * a handler (close waits for handlers); call it without awaiting.
   */
  async process(handler: (message: ReceivedMessage) => unknown, options: ProcessOptions = {}): Promise<void> {
    const workers = runHandlers(() => this.#pull(), handler, options, this.#deps.logger, { topic: this.topic, group: this.group });
    for (const w of workers) {
      this.#workers.add(w);
      w.then(() => this.#workers.delete(w), () => this.#workers.delete(w));
    }
    await Promise.all(workers);
    const error = await this.closed;
    if (error) throw error;
  }

  /**
   * Stops handing out messages, waits for running `process` handlers, writes
   * the pending acks (with `confirmAcks`, waits for their confirmations),
   * then half-closes the stream and waits for the broker to end it (at most
   * 5 s); messages not acked go back to the group at once. Acks still
   * unconfirmed after that reject. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Closes the subscription (`await using sub = client.subscribe(...)`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The verbs of delivered messages land here. */
  readonly #settler: Settler = {
    ack: (message) => {
      this.#leases.delete(message);
      // Sent even for a message of an earlier stream: if the broker leased it
      // to this stream again, the ack spares a redelivery; if not, it is ignored.
      return this.#acks.ack(message.partition, message.offset);
    },
    nack: (message, delayMs) => {
      this.#leases.delete(message);
      if (message.generation !== this.#live) return settledNow;
      this.#acks.verbs.nack(message.partition, message.offset, delayMs);
      this.#acks.schedule();
      return settledNow;
    },
    extend: (message, deadlineMs) => {
      if (message.generation !== this.#live) return settledNow;
      this.#leases.extended(message, Date.now(), deadlineMs);
      this.#acks.verbs.extend(message.partition, message.offset, deadlineMs);
      this.#acks.schedule();
      return settledNow;
    },
  };

  readonly #onAbort = (): void => void this.close();

  #pull(): Promise<IteratorResult<ReceivedMessage>> {
    // A message already waiting is handed over without the async function's
    // promise and hop: a third of a consumer's promises.
    for (let m = this.#queue.take(); m !== undefined; m = this.#queue.take()) {
      if (m.generation === this.#live) return Promise.resolve({ value: m, done: false });
    }
    return this.#wait();
  }

  async #wait(): Promise<IteratorResult<ReceivedMessage>> {
    for (;;) {
      const next = await this.#queue.pull();
      // A message of a stream that has ended was given back to the group.
      if (next.done || next.value.generation === this.#live) return next;
    }
  }

  #connect(): void {
    if (this.#stream || this.#state !== "open") return;
    const generation = ++this.#generation;
    try {
      this.#stream = this.#open(generation);
    } catch (err) {
      this.#onClose(SluiceError.from(err));
      return;
    }
    this.#acks.open(this.#stream, this.#deps.openRequest);
  }

  #open(generation: number): StreamHandle<SubscribeRequest> {
    return this.#deps.open({
      onMessage: (m) => this.#generation === generation && this.#onMessage(m, generation),
      onDrain: () => this.#generation === generation && this.#acks.drained(),
      onClose: (err) => this.#generation === generation && this.#onClose(err),
    });
  }

  #onMessage(response: SubscribeResponse, generation: number): void {
    const r = response.response;
    if (r.case === "subscribed") {
      this.#live = generation;
      this.#consumerId = r.value.consumerId;
      const deadline = r.value.settings?.ackDeadline;
      if (deadline) this.#leases.ackDeadlineMs = durationMs(deadline);
      this.#reconnector.succeeded();
      this.#renewer.start();
      this.#acks.ready();
    } else if (r.case === "deliveries" && this.#live === generation && this.#state === "open") {
      const now = Date.now();
      for (const d of r.value.deliveries) {
        const message = new ReceivedMessage(d, generation, this.#settler);
        if (this.#deps.maxLeaseMs > 0) this.#leases.add(message, now);
        this.#queue.push(message);
      }
    } else if (r.case === "ackConfirmation" && this.#live === generation) {
      this.#acks.confirmed(r.value.ackId);
    }
  }

  #onClose(error: SluiceError | undefined): void {
    this.#stream = undefined;
    this.#acks.detach(error);
    this.#live = 0;
    this.#consumerId = "";
    this.#leases.clear();
    this.#renewer.stop();
    const ending = this.#ending;
    if (ending) {
      this.#ending = undefined;
      ending();
      return;
    }
    if (this.#state !== "open") return;
    const cause = error ?? new SluiceError(Code.Unavailable, "the broker ended the subscription stream");
    if (this.#reconnector.failed(cause)) this.#reconnector.schedule(() => this.#connect());
    else this.#finish(cause);
  }

  async #close(): Promise<void> {
    if (this.#state !== "open") return;
    this.#state = "closing";
    this.#queue.close();
    this.#reconnector.cancel();
    await Promise.allSettled([...this.#workers]);
    const stream = this.#stream;
    if (stream) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#ending = resolve;
        this.#acks.flushAll();
        // The broker stops confirming acks once the stream is half-closed.
        if (this.#acks.awaitingConfirmation) void this.#acks.allConfirmed().then(() => stream.end());
        else stream.end();
        // A broker that never ends the stream must not hold close() forever.
        timer = setTimeout(() => stream.cancel(), 5000);
      });
      clearTimeout(timer);
    }
    this.#finish(undefined);
  }

  #finish(error: SluiceError | undefined): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#reconnector.cancel();
    this.#renewer.stop();
    this.#leases.clear();
    this.#acks.close(error);
    if (error) {
      this.#deps.logger.error({ topic: this.topic, group: this.group, code: error.code, err: error.message }, "sluice subscription failed");
      this.#queue.fail(error);
    } else {
      this.#queue.close();
    }
    this.#status.end();
    this.#resolveClosed(error);
    this.#deps.onClosed?.();
  }
}
