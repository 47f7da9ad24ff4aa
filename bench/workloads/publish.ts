/**
 * Publish workloads with the TypeScript client: (1) batched, pipelined sends
 * through one Publisher, one `send` per message or one `sendBatch` per
 * 1,000 messages; (2) unary Publish calls of one message each from many
 * concurrent callers.
 */
import type { Publisher, SluiceClient } from "@sluice/client";
import { publisherOptions } from "../publisher-options.js";

/**
 * The bench's bound on unconfirmed messages, as an application bounding its
 * memory would: once `limit` are unconfirmed, the producer waits until half
 * of them are confirmed. Remembers the first failure.
 */
class UnconfirmedWindow {
  #unconfirmed = 0;
  #wake: (() => void) | undefined;
  failure: unknown;

  constructor(readonly limit: number) {}

  /** Whether `n` more would pass the limit: then wait for {@link drained} first. */
  full(n: number): boolean {
    return this.#unconfirmed + n > this.limit;
  }

  /** Resolves once half of the limit is confirmed. */
  drained(): Promise<void> {
    return new Promise<void>((r) => (this.#wake = r));
  }

  /** Counts `n` more unconfirmed messages. */
  add(n: number): void {
    this.#unconfirmed += n;
  }

  /** `n` messages were confirmed (or failed). */
  settled(n: number): void {
    this.#unconfirmed -= n;
    if (this.#wake !== undefined && this.#unconfirmed <= this.limit / 2) {
      const w = this.#wake;
      this.#wake = undefined;
      w();
    }
  }

  /** Confirms one message: the per-`send` callback, made once. */
  readonly one = (): void => this.settled(1);

  /** Notes a failure of one message: the per-`send` callback, made once. */
  readonly oneFailed = (err: unknown): void => {
    this.failure ??= err;
    this.settled(1);
  };
}

/** Messages the publish workloads keep unconfirmed at most. */
const WINDOW = 100_000;

/** Sends `count` messages through one Publisher (default batching) and resolves with msg/s. */
export async function publishBatched(client: SluiceClient, topic: string, payloads: Buffer[], count: number): Promise<number> {
  // The publisher batches what it is given.
  const window = new UnconfirmedWindow(WINDOW);
  const publisher = client.publisher(topic, publisherOptions());
  const mask = payloads.length - 1;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    // No await per message: a promise per send would be the bench's own cost.
    if (window.full(1)) await window.drained();
    if (window.failure !== undefined) break;
    window.add(1);
    publisher.send(payloads[i & mask]!).then(window.one, window.oneFailed);
  }
  return finish(publisher, t0, count, window);
}

/** Messages per `sendBatch` call in {@link publishSendBatch}. */
export const SEND_BATCH_SIZE = 1000;

/**
 * Sends `count` messages through one Publisher in `sendBatch` calls of
 * {@link SEND_BATCH_SIZE} messages and resolves with msg/s. Keeps at most as
 * many messages unconfirmed as {@link publishBatched}, so that the two rows
 * differ only in the call.
 */
export async function publishSendBatch(client: SluiceClient, topic: string, payloads: Buffer[], count: number): Promise<number> {
  const window = new UnconfirmedWindow(WINDOW);
  const publisher = client.publisher(topic, publisherOptions());
  const mask = payloads.length - 1;
  const t0 = performance.now();
  for (let i = 0; i < count; i += SEND_BATCH_SIZE) {
    const n = Math.min(SEND_BATCH_SIZE, count - i);
    if (window.full(n)) await window.drained();
    if (window.failure !== undefined) break;
    window.add(n);
    const batch = new Array<Buffer>(n);
    for (let j = 0; j < n; j++) batch[j] = payloads[(i + j) & mask]!;
    publisher.sendBatch(batch).then(
      () => window.settled(n),
      (err: unknown) => {
        window.failure ??= err;
        window.settled(n);
      },
    );
  }
  return finish(publisher, t0, count, window);
}

/** Waits for every confirmation, closes the publisher, and resolves with msg/s since `t0` (or throws the first failure). */
async function finish(publisher: Publisher, t0: number, count: number, window: UnconfirmedWindow): Promise<number> {
  await publisher.flush();
  const seconds = (performance.now() - t0) / 1000;
  await publisher.close();
  if (window.failure !== undefined) throw window.failure;
  return count / seconds;
}

/**
 * `callers` concurrent loops, each publishing one message per unary call and
 * awaiting it, for `seconds`. Resolves with msg/s.
 */
export async function publishSingle(
  client: SluiceClient,
  topic: string,
  payloads: Buffer[],
  callers: number,
  seconds: number,
): Promise<number> {
  const mask = payloads.length - 1;
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const loop = async (k: number): Promise<void> => {
    for (let i = k; performance.now() < end; i += callers) {
      await client.publish(topic, [payloads[i & mask]!]);
      n++;
    }
  };
  await Promise.all(Array.from({ length: callers }, (_, k) => loop(k)));
  return n / ((performance.now() - t0) / 1000);
}

/**
 * `callers` concurrent loops, each sending one message through one shared
 * Publisher (lingerMs 0) and awaiting its confirmation before the next: what
 * an application's concurrent request handlers do. The publisher coalesces
 * what the callers send in one event-loop turn into one request. Resolves
 * with msg/s.
 */
export async function publishSingleViaPublisher(
  client: SluiceClient,
  topic: string,
  payloads: Buffer[],
  callers: number,
  seconds: number,
): Promise<number> {
  const publisher = client.publisher(topic, publisherOptions({ lingerMs: 0 }));
  const mask = payloads.length - 1;
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const loop = async (k: number): Promise<void> => {
    for (let i = k; performance.now() < end; i += callers) {
      await publisher.send(payloads[i & mask]!);
      n++;
    }
  };
  await Promise.all(Array.from({ length: callers }, (_, k) => loop(k)));
  const rate = n / ((performance.now() - t0) / 1000);
  await publisher.close();
  return rate;
}
