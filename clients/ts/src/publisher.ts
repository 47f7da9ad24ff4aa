import { randomBytes } from "node:crypto";
import { BatchPart, BatchSend, wireBatch } from "./batch-send.js";
import { Batcher } from "./batcher.js";
import { ByteBudget } from "./byte-budget.js";
import { Code, isCode } from "./code.js";
import { StatusChannel, type ConnectionStatus } from "./connection-status.js";
import type { PublishStreamResponse } from "./gen/sluice/v1/broker_pb.js";
import type { PublishMessage } from "./gen/sluice/v1/message_pb.js";
import { Linger } from "./linger.js";
import type { Logger } from "./logger.js";
import { estimateBytes, toPublishMessage, type OutgoingMessage, type PublishResult } from "./outgoing-message.js";
import type { Payload } from "./payload.js";
import {
  confirmEach,
  countOf,
  failEach,
  messagesOf,
  pendingSend,
  promiseFor,
  settledThrough,
  type Pending,
} from "./pending-send.js";
import { PublishConnection, type PublishConnectionDeps } from "./publish-connection.js";
import { publisherSettings, type PublisherOptions } from "./publisher-options.js";
import type { SealedRequest } from "./request-window.js";
import { SendBatchError } from "./send-batch-error.js";
import { SettleSequence } from "./settle-sequence.js";
import { SluiceError } from "./sluice-error.js";

/** @internal */
export interface PublisherDeps extends PublishConnectionDeps {
  onClosed?: () => void;
}

/**
 * Publishes to one topic with automatic batching and pipelining over one
 * `PublishStream`. `send` resolves once the broker has stored the message
 * (with its partition and offset) and rejects with a {@link SluiceError}
 * when the broker refuses it; `sendBatch` does the same for many messages
 * with one promise. Messages are sent in call order and confirmations
 * settle in that order.
 *
 * When the stream breaks, the publisher reconnects with jittered backoff and
 * resends every unconfirmed message, with the same `messageId`. Within the
 * topic's dedupe window the broker stores such a resend only once and
 * answers with the first copy's position (`duplicate: true`); with dedupe
 * off, a resend after a broker crash may store a message twice.
 *
 * Create with `client.publisher(topic)`.
 */
export class Publisher {
  /** The topic this publisher writes to. */
  readonly topic: string;
  readonly #deps: PublisherDeps;
  readonly #autoId: boolean;
  /** A sendBatch's parts: at most a request's messages, and bytes the budget can hold. */
  readonly #partMessages: number;
  readonly #partBytes: number;
  readonly #budget: ByteBudget<Pending>;
  readonly #batcher: Batcher<Pending>;
  readonly #status = new StatusChannel();
  readonly #connection: PublishConnection;
  /** Automatic ids are this prefix (with its dash) and a counter in base 36. */
  readonly #idPrefix = `${randomBytes(6).toString("base64url")}-`;
  #idCounter = 0;
  readonly #linger: Linger;
  readonly #sequence = new SettleSequence();
  #state: "open" | "closing" | "closed" = "open";
  #closing: Promise<void> | undefined;

  /** @internal Use `client.publisher(topic, options)`. */
  constructor(topic: string, options: PublisherOptions, deps: PublisherDeps) {
    this.topic = topic;
    this.#deps = deps;
    const settings = publisherSettings(options);
    this.#linger = new Linger(settings.lingerMs, () => this.#batcher.flush());
    this.#autoId = settings.autoMessageId;
    this.#partMessages = settings.maxBatchMessages;
    this.#partBytes = Math.min(settings.maxBatchBytes, settings.maxUnconfirmedBytes);
    this.#budget = new ByteBudget(settings.maxUnconfirmedBytes, (p) => this.#accept(p));
    this.#batcher = new Batcher(settings.maxBatchMessages, settings.maxBatchBytes, (entries, bytes, count) => this.#seal(entries, bytes, count));
    this.#connection = new PublishConnection(
      topic,
      deps,
      this.#status,
      (sealed, response) => this.#settle(sealed, response),
      (error) => this.#failAll(error),
    );
  }

  /**
   * Publishes one message (or a bare payload). Resolves with where the broker
   * stored it; rejects with a {@link SluiceError}: the broker's code for a
   * refused request (e.g. {@link Code.NotFound} for a missing topic),
   * {@link Code.InvalidArgument} for a malformed message,
   * {@link Code.FailedPrecondition} once `close()` was called, or the stream's
   * error when reconnection gives up.
   */
  send(message: OutgoingMessage | Payload): Promise<PublishResult> {
    if (this.#state !== "open") {
      return Promise.reject(new SluiceError(Code.FailedPrecondition, "the publisher is closed"));
    }
    let wire: PublishMessage;
    try {
      wire = toPublishMessage(message, this.#nextId());
    } catch (err) {
      return Promise.reject(SluiceError.from(err));
    }
    const entry = pendingSend(this.#sequence.next(), wire, estimateBytes(wire));
    const promise = promiseFor(entry);
    try {
      if (this.#budget.acquire(entry, entry.bytes)) this.#accept(entry);
    } catch (err) {
      // As a throw inside a promise executor would.
      entry.reject(err as SluiceError);
    }
    return promise;
  }

  /**
   * Publishes many messages (or bare payloads) with one promise: what `send`
   * does for each (message ids, batching, resends), in order with the other
   * calls, with less work per message (no promise per message). For
   * messages at hand together (a file, a page of rows); `send` batches
   * messages that come one at a time just as well on the wire. Resolves,
   * once every message is stored, with their positions in batch order; `[]`
   * for an empty batch.
   *
   * Rejects with a {@link SendBatchError} (a {@link SluiceError}) whose
   * `index` is the position of the first message not stored and `results`
   * tells, per message, where it was stored or `undefined`:
   * {@link Code.InvalidArgument} for a malformed message, before any message
   * is sent; {@link Code.FailedPrecondition} once `close()` was called; the
   * broker's code when it refuses a request (a large batch goes out as
   * several requests of at most `maxBatchMessages` and `maxBatchBytes`, so
   * earlier ones may have been stored); the stream's error when
   * reconnection gives up. It settles only once every message has its
   * outcome.
   *
   * A batch larger than `maxUnconfirmedBytes` does not wait for room it
   * cannot get: its parts go through the bound in order, as that many
   * `send`s would. Its last request goes out at the end of the event-loop
   * turn, with whatever else was sent in that turn, without waiting
   * `lingerMs` for more messages.
   */
  sendBatch(messages: readonly (OutgoingMessage | Payload)[]): Promise<PublishResult[]> {
    if (this.#state !== "open") {
      const closed = new SluiceError(Code.FailedPrecondition, "the publisher is closed");
      return Promise.reject(SendBatchError.noneStored(closed, Array.isArray(messages) ? messages.length : 0));
    }
    let batch: BatchSend;
    let sizes: Float64Array;
    try {
      const converted = wireBatch(messages, () => this.#nextId());
      if (converted.wire.length === 0) return Promise.resolve([]);
      batch = new BatchSend(this.#sequence.next(), converted.wire);
      sizes = converted.sizes;
    } catch (err) {
      return Promise.reject(err as SendBatchError);
    }
    let start = 0;
    try {
      while (start < sizes.length) {
        const part = new BatchPart(batch, start, sizes, this.#partMessages, this.#partBytes);
        start = part.end;
        if (this.#budget.acquire(part, part.bytes)) this.#accept(part);
      }
    } catch (err) {
      // As a throw in send's promise executor would: the call fails, from the
      // first part not queued; the queued ones still settle as answered.
      if (start < sizes.length) batch.fail(start, sizes.length, SluiceError.from(err));
    }
    return batch.promise;
  }

  /**
   * Sends the open batch at once and resolves when every `send` and
   * `sendBatch` made before this call has settled (resolved or rejected).
   * Never rejects.
   */
  flush(): Promise<void> {
    const settled = this.#sequence.allSettled();
    this.#batcher.flush();
    return settled;
  }

  /**
   * Stops accepting messages, waits for every pending confirmation (through
   * reconnections if needed), then ends the stream. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Closes the publisher (`await using publisher = client.publisher(...)`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The publisher's stream status, from now on; ends when the publisher closes. */
  status(): AsyncIterableIterator<ConnectionStatus> {
    return this.#status.iterate();
  }

  async #close(): Promise<void> {
    this.#state = "closing";
    await this.flush();
    await this.#connection.end();
    this.#state = "closed";
    this.#status.end();
    this.#deps.onClosed?.();
  }

  #nextId(): string {
    return this.#autoId ? this.#idPrefix + (this.#idCounter++).toString(36) : "";
  }

  #accept(entry: Pending): void {
    const first = this.#batcher.add(entry, entry.bytes, countOf(entry));
    // A sendBatch caller handed over all it had, and a flush() caller waits:
    // what they leave open goes out this turn, not after lingerMs.
    const soon = entry instanceof BatchPart || this.#sequence.waited;
    if (first || (soon && this.#batcher.size > 0)) this.#linger.start(soon);
  }

  #seal(entries: Pending[], bytes: number, count: number): void {
    this.#linger.cancel();
    this.#connection.send(entries, bytes, messagesOf(entries, count));
  }

  /** Settles the sends of `sealed` as the broker's `response` to it says. */
  #settle(sealed: SealedRequest, response: PublishStreamResponse): void {
    const { entries } = sealed;
    const sent = sealed.request.messages.length;
    if (response.error) {
      const { code, message } = response.error;
      failEach(entries, new SluiceError(isCode(code) && code !== Code.Ok ? code : Code.Unknown, message));
    } else if (response.results.length !== sent) {
      failEach(entries, new SluiceError(Code.Internal, `the broker returned ${response.results.length} results for ${sent} messages`));
    } else {
      confirmEach(entries, response.results);
    }
    this.#sequence.settled(settledThrough(entries[entries.length - 1] as Pending));
    this.#budget.release(sealed.bytes);
  }

  /** Rejects everything pending, in call order. */
  #failAll(error: SluiceError): void {
    this.#linger.cancel();
    const batches = this.#connection.takeAll();
    const open = this.#batcher.take();
    const waiting = this.#budget.takeWaiting();
    let released = 0;
    for (const b of batches) released += b.bytes;
    for (const e of open) released += e.bytes;
    const pending = [...batches.flatMap((b) => b.entries), ...open, ...waiting];
    failEach(pending, error);
    if (pending.length > 0) this.#sequence.settled(settledThrough(pending[pending.length - 1] as Pending));
    this.#budget.release(released);
  }
}
