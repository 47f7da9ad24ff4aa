import { create } from "@bufbuild/protobuf";
import { durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { reconnectOptions } from "../../src/backoff.js";
import {
  SubscribeRequestSchema,
  SubscribeResponseSchema,
  type SubscribeRequest,
  type SubscribeResponse,
} from "../../src/gen/sluice/v1/broker_pb.js";
import { silentLogger } from "../../src/logger.js";
import { encodePayload } from "../../src/payload.js";
import type { ReceivedMessage } from "../../src/received-message.js";
import { Subscription } from "../../src/subscription.js";
import { FakeTransport, type FakeStream } from "./fake-stream.js";

/** A subscription stream of the fake transport. */
export type Stream = FakeStream<SubscribeRequest, SubscribeResponse>;

/** The `open` request every fake subscription sends. */
export const openRequest = create(SubscribeRequestSchema, { request: { case: "open", value: { topic: "t", group: "g" } } });

/** A {@link Subscription} of topic "t", group "g", over a {@link FakeTransport}. */
export function setup(options: { signal?: AbortSignal; maxLeaseMs?: number; maxAttempts?: number; confirmAcks?: boolean } = {}) {
  const transport = new FakeTransport<SubscribeRequest, SubscribeResponse>();
  const sub = new Subscription("t", "g", options.signal, {
    open: transport.open,
    openRequest,
    reconnect: reconnectOptions({ initialDelayMs: 1, maxDelayMs: 2, maxAttempts: options.maxAttempts ?? Infinity }),
    logger: silentLogger,
    maxLeaseMs: options.maxLeaseMs ?? 0,
    confirmAcks: options.confirmAcks ?? false,
  });
  return { transport, sub };
}

/** The broker confirms `open`. */
export function subscribed(stream: Stream, ackDeadlineMs = 30_000): void {
  stream.respond(
    create(SubscribeResponseSchema, {
      response: { case: "subscribed", value: { consumerId: "c1", partitions: 1, settings: { ackDeadline: durationFromMs(ackDeadlineMs) } } },
    }),
  );
}

/** The broker delivers offsets `from` to `from + count - 1` of partition 0. */
export function deliver(stream: Stream, from: number, count: number, attempt = 1): void {
  stream.respond(
    create(SubscribeResponseSchema, {
      response: {
        case: "deliveries",
        value: {
          deliveries: Array.from({ length: count }, (_, i) => ({
            attempt,
            message: { topic: "t", partition: 0, offset: BigInt(from + i), payload: encodePayload(`m${from + i}`) },
          })),
        },
      },
    }),
  );
}

/** The broker confirms the ack request `ackId` durable. */
export function confirm(stream: Stream, ackId: bigint): void {
  stream.respond(create(SubscribeResponseSchema, { response: { case: "ackConfirmation", value: { ackId, acked: 1 } } }));
}

/** The requests after `open`, summarised. */
export function verbs(stream: Stream) {
  return stream.written.slice(1).map((r) => {
    const req = r.request;
    if (req.case === "ack") return { ack: req.value.positions.map((p) => Number(p.offset)) };
    if (req.case === "nack") return { nack: req.value.positions.map((p) => Number(p.offset)), delayMs: req.value.delay ? durationMs(req.value.delay) : "unset" };
    if (req.case === "extend") return { extend: req.value.positions.map((p) => Number(p.offset)), ms: durationMs(req.value.deadline!) };
    return { other: req.case };
  });
}

/** The `ack_id`s of the ack requests written, in order. */
export function ackIds(stream: Stream): bigint[] {
  return stream.written.flatMap((r) => (r.request.case === "ack" ? [r.request.value.ackId] : []));
}

/** The next `n` messages of `sub` (fewer if it ends). */
export async function take(sub: Subscription, n: number): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  const it = sub[Symbol.asyncIterator]();
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}
