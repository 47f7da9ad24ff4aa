import { Code } from "./code.js";
import type { PublishMessage, PublishResult as WireResult } from "./gen/sluice/v1/message_pb.js";
import { estimateBytes, toPublishMessage, type OutgoingMessage, type PublishResult } from "./outgoing-message.js";
import type { Payload } from "./payload.js";
import { SendBatchError } from "./send-batch-error.js";
import { SluiceError } from "./sluice-error.js";

/**
 * The wire form of a batch's messages, each given `messageId()` where it
 * has no id (as `send` does), and their estimated sizes. Converts all of
 * them before anything is queued: throws a {@link SendBatchError} (no
 * message stored) naming the first invalid one, with
 * {@link Code.InvalidArgument} for a malformed message.
 * @internal
 */
export function wireBatch(
  messages: readonly (OutgoingMessage | Payload)[],
  messageId: () => string,
): { wire: PublishMessage[]; sizes: Float64Array } {
  if (!Array.isArray(messages)) throw SendBatchError.noneStored(new SluiceError(Code.InvalidArgument, "sendBatch takes an array of messages"), 0);
  const n = messages.length;
  const wire = new Array<PublishMessage>(n);
  const sizes = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m: PublishMessage;
    try {
      m = toPublishMessage(messages[i] as OutgoingMessage | Payload, messageId());
    } catch (err) {
      const e = SluiceError.from(err);
      throw SendBatchError.noneStored(new SluiceError(e.code, `message ${i} of the batch: ${e.message}`, { cause: err }), n, i);
    }
    wire[i] = m;
    sizes[i] = estimateBytes(m);
  }
  return { wire, sizes };
}

/**
 * One `sendBatch` call until it settles: its wire messages and, as requests
 * are answered, their results. It settles once every message has an
 * outcome: resolves with the results when all were stored, rejects with a
 * {@link SendBatchError} otherwise. Per message it keeps the wire message
 * and the result, no promise or closure: the point of `sendBatch`.
 * @internal
 */
export class BatchSend {
  /** The batch's promise; settles once, when the last message has an outcome. */
  readonly promise: Promise<PublishResult[]>;
  readonly #results: (PublishResult | undefined)[];
  #remaining: number;
  #failure: SluiceError | undefined;
  #failedAt = 0;
  #resolve!: (results: PublishResult[]) => void;
  #reject!: (error: SendBatchError) => void;

  /**
   * @param seq - the call's number in the publisher's {@link SettleSequence}
   * @param messages - the wire messages, validated, at least one
   */
  constructor(
    readonly seq: number,
    readonly messages: readonly PublishMessage[],
  ) {
    // Filled, not sparse: callers read `SendBatchError.results` with filter and map.
    this.#results = new Array<PublishResult | undefined>(messages.length).fill(undefined);
    this.#remaining = messages.length;
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Whether every message has an outcome (the promise has settled). */
  get done(): boolean {
    return this.#remaining === 0;
  }

  /** Records that messages `start` to `end` (exclusive) were stored at `results[from]` onwards. */
  confirm(start: number, end: number, results: readonly WireResult[], from: number): void {
    for (let i = start; i < end; i++) {
      const r = results[from++] as WireResult;
      this.#results[i] = { partition: r.partition, offset: r.offset, duplicate: r.duplicate };
    }
    this.#settled(end - start);
  }

  /** Records that messages `start` to `end` (exclusive) failed with `error`. */
  fail(start: number, end: number, error: SluiceError): void {
    if (this.#failure === undefined || start < this.#failedAt) {
      this.#failure = error;
      this.#failedAt = start;
    }
    this.#settled(end - start);
  }

  #settled(count: number): void {
    this.#remaining -= count;
    if (this.#remaining > 0) return;
    const failure = this.#failure;
    if (failure === undefined) this.#resolve(this.#results as PublishResult[]);
    else this.#reject(new SendBatchError(failure.code, failure.message, this.#failedAt, this.#results, { cause: failure }));
  }
}

/**
 * Consecutive messages of one {@link BatchSend} that go through the byte
 * budget and into a request together, the way one `send`'s message does. A
 * part holds at most `maxMessages` messages and `maxBytes` bytes, unless
 * it is one message larger than that by itself.
 * @internal
 */
export class BatchPart {
  /** The position after the part's last message. */
  readonly end: number;
  /** The estimated bytes of its messages. */
  readonly bytes: number;

  /**
   * The part of `batch` that starts at message `start`, with `sizes` the
   * estimated bytes of every message of the batch.
   */
  constructor(
    readonly batch: BatchSend,
    readonly start: number,
    sizes: Float64Array,
    maxMessages: number,
    maxBytes: number,
  ) {
    let end = start;
    let bytes = 0;
    const last = Math.min(sizes.length, start + maxMessages);
    // The batcher's rule: a message that would take a non-empty part past maxBytes starts the next.
    while (end < last && (end === start || bytes + (sizes[end] as number) <= maxBytes)) bytes += sizes[end++] as number;
    this.end = end;
    this.bytes = bytes;
  }

  /** How many messages it holds. */
  get count(): number {
    return this.end - this.start;
  }
}
