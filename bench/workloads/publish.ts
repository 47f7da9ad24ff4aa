/**
 * Publish workloads with the TypeScript client: (1) batched, pipelined sends
 * through one Publisher; (2) unary Publish calls of one message each from
 * many concurrent callers.
 */
import type { SluiceClient } from "@sluice/client";
import { publisherOptions } from "../publisher-options.js";

/** Sends `count` messages through one Publisher (default batching) and resolves with msg/s. */
export async function publishBatched(client: SluiceClient, topic: string, payloads: Buffer[], count: number): Promise<number> {
  // The bench keeps at most `window` sends unconfirmed, as an application
  // bounding its memory would; the publisher batches what it is given.
  const window = 100_000;
  const publisher = client.publisher(topic, publisherOptions());
  const mask = payloads.length - 1;
  let outstanding = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const settled = (): void => {
    outstanding--;
    if (wake !== undefined && outstanding <= window / 2) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  const failed = (err: unknown): void => {
    failure ??= err;
    settled();
  };
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    if (outstanding >= window) await new Promise<void>((r) => (wake = r));
    if (failure !== undefined) break;
    outstanding++;
    publisher.send(payloads[i & mask]!).then(settled, failed);
  }
  await publisher.flush();
  const seconds = (performance.now() - t0) / 1000;
  await publisher.close();
  if (failure !== undefined) throw failure;
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
