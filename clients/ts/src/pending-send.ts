import { BatchPart } from "./batch-send.js";
import type { PublishMessage, PublishResult as WireResult } from "./gen/sluice/v1/message_pb.js";
import type { PublishResult } from "./outgoing-message.js";
import type { SluiceError } from "./sluice-error.js";

/** One `send`: its message and its promise's settle functions. @internal */
export interface PendingSend {
  seq: number;
  message: PublishMessage;
  bytes: number;
  resolve: (result: PublishResult) => void;
  reject: (error: SluiceError) => void;
}

/**
 * What the publisher's byte budget, batcher and requests carry, in call
 * order: one `send`'s message, or consecutive messages of one `sendBatch`.
 * @internal
 */
export type Pending = PendingSend | BatchPart;

/** A send's settle functions until {@link promiseFor} sets them. */
const unset = (): void => {};

/** The entry of a `send`, to be given its promise by {@link promiseFor}. @internal */
export function pendingSend(seq: number, message: PublishMessage, bytes: number): PendingSend {
  return { seq, message, bytes, resolve: unset, reject: unset };
}

/** The entry whose promise {@link promiseFor} is making. */
let capturing: PendingSend | undefined;

function capture(resolve: PendingSend["resolve"], reject: PendingSend["reject"]): void {
  capturing!.resolve = resolve;
  capturing!.reject = reject;
}

/**
 * A promise that `entry.resolve` and `entry.reject` settle. Made with one
 * shared executor: a closure per `send` (and its context) was a sixth of
 * what a send allocated. Executors run synchronously, so one slot is enough.
 * @internal
 */
export function promiseFor(entry: PendingSend): Promise<PublishResult> {
  capturing = entry;
  const promise = new Promise<PublishResult>(capture);
  capturing = undefined;
  return promise;
}

/** How many messages an entry holds. @internal */
export function countOf(entry: Pending): number {
  return entry instanceof BatchPart ? entry.count : 1;
}

/**
 * The messages of `entries`, in order, as one request carries them;
 * `count` is their number.
 * @internal
 */
export function messagesOf(entries: readonly Pending[], count: number): PublishMessage[] {
  const messages = new Array<PublishMessage>(count);
  let n = 0;
  for (const e of entries) {
    if (e instanceof BatchPart) for (let i = e.start; i < e.end; i++) messages[n++] = e.batch.messages[i] as PublishMessage;
    else messages[n++] = e.message;
  }
  return messages;
}

/** Settles `entries` with `results`, one per message, in order. @internal */
export function confirmEach(entries: readonly Pending[], results: readonly WireResult[]): void {
  let n = 0;
  for (const e of entries) {
    if (e instanceof BatchPart) {
      e.batch.confirm(e.start, e.end, results, n);
      n += e.count;
    } else {
      const r = results[n++] as WireResult;
      e.resolve({ partition: r.partition, offset: r.offset, duplicate: r.duplicate });
    }
  }
}

/** Rejects `entries` (a batch's part counts towards its batch's outcome) with `error`. @internal */
export function failEach(entries: Iterable<Pending>, error: SluiceError): void {
  for (const e of entries) {
    if (e instanceof BatchPart) e.batch.fail(e.start, e.end, error);
    else e.reject(error);
  }
}

/**
 * The call number through which every call has settled once `entry`, and
 * everything before it, has its outcome: a batch's part that is not its
 * last leaves the batch itself unsettled.
 * @internal
 */
export function settledThrough(entry: Pending): number {
  if (!(entry instanceof BatchPart)) return entry.seq;
  return entry.batch.done ? entry.batch.seq : entry.batch.seq - 1;
}
