import { create } from "@bufbuild/protobuf";
import { reconnectOptions } from "../../src/backoff.js";
import {
  PublishStreamResponseSchema,
  type PublishStreamRequest,
  type PublishStreamResponse,
} from "../../src/gen/sluice/v1/broker_pb.js";
import { silentLogger } from "../../src/logger.js";
import { decodeText } from "../../src/payload.js";
import type { PublisherOptions } from "../../src/publisher-options.js";
import { Publisher } from "../../src/publisher.js";
import { FakeTransport, type FakeStream } from "./fake-stream.js";

export type PublishFakeStream = FakeStream<PublishStreamRequest, PublishStreamResponse>;

/** A Publisher of topic "t" (lingerMs 0 unless given) over a {@link FakeTransport}, reconnecting after 1-2 ms. */
export function fakePublisher(options: PublisherOptions = {}, maxAttempts = Infinity) {
  const transport = new FakeTransport<PublishStreamRequest, PublishStreamResponse>();
  const publisher = new Publisher("t", { lingerMs: 0, ...options }, {
    open: transport.open,
    reconnect: reconnectOptions({ initialDelayMs: 1, maxDelayMs: 2, maxAttempts }),
    logger: silentLogger,
  });
  return { transport, publisher };
}

/** Confirms request `index` of `stream`, giving message i offset base + i in partition 0. */
export function confirm(stream: PublishFakeStream, index: number, base = 0n): void {
  const request = stream.written[index]!;
  stream.respond(
    create(PublishStreamResponseSchema, {
      requestId: request.requestId,
      results: request.messages.map((_, i) => ({ partition: 0, offset: base + BigInt(i), duplicate: false })),
    }),
  );
}

/** Refuses request `index` of `stream` with a request error. */
export function refuse(stream: PublishFakeStream, index: number, code: number, message: string): void {
  stream.respond(create(PublishStreamResponseSchema, { requestId: stream.written[index]!.requestId, error: { code, message } }));
}

/** The payloads of a request, as text. */
export const payloads = (r: PublishStreamRequest) => r.messages.map((m) => decodeText(m.payload));
