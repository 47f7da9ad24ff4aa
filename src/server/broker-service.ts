import { create } from "@bufbuild/protobuf";
import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { Broker } from "../broker/broker.js";
import type { Logger } from "../broker/logger.js";
import * as pb from "../../gen/sluice/v1/broker_pb.js";
import { durationMs, extendDeadline, nackDelay } from "./convert.js";
import { encodeFetchResponse } from "./delivery-encoder.js";
import { handlePublishStream } from "./publish-stream.js";
import { DEFAULT_MAX_STREAMS_PER_CONNECTION, StreamLimiter } from "./stream-limiter.js";
import { DEFAULT_MAX_PENDING_BYTES, handleSubscribe } from "./subscribe-stream.js";
import { unary } from "./unary.js";

/** Limits the edge enforces on streams. */
export interface StreamLimits {
  /** Subscribe and PublishStream calls open at once per connection. */
  readonly maxStreamsPerConnection: number;
  /** Bytes written to a Subscribe stream and not yet sent before the broker stops adding more. */
  readonly maxPendingBytes: number;
}

/** The BrokerService handlers. */
export function brokerService(broker: Broker, logger: Logger, limits?: StreamLimits): UntypedServiceImplementation {
  const streams = new StreamLimiter(limits?.maxStreamsPerConnection ?? DEFAULT_MAX_STREAMS_PER_CONNECTION);
  const maxPendingBytes = limits?.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
  return {
    publish: unary(logger, "Publish", async (req: pb.PublishRequest) => {
      const results = await broker.publish(req.topic, req.messages);
      return create(pb.PublishResponseSchema, { results });
    }),
    publishStream: (call: Parameters<typeof handlePublishStream>[2]) => {
      if (streams.admit(call, "PublishStream")) handlePublishStream(broker, logger, call);
    },
    subscribe: (call: Parameters<typeof handleSubscribe>[2]) => {
      if (streams.admit(call, "Subscribe")) handleSubscribe(broker, logger, call, maxPendingBytes);
    },

    fetch: unary(logger, "Fetch", async (req: pb.FetchRequest): Promise<pb.FetchResponse | Uint8Array> => {
      const waitMs = durationMs(req.maxWait, "max_wait") ?? 0;
      const batch = await broker.groups.fetch(req.topic, req.group, req.maxMessages, waitMs);
      return batch === null ? create(pb.FetchResponseSchema) : encodeFetchResponse(req.topic, batch);
    }),
    ack: unary(logger, "Ack", async (req: pb.AckRequest) => {
      const outcome = await broker.groups.ack(req.topic, req.group, req.positions);
      return create(pb.AckResponseSchema, { acked: outcome.acked, ignored: outcome.ignored.length });
    }),
    nack: unary(logger, "Nack", async (req: pb.NackRequest) => {
      broker.groups.nack(req.topic, req.group, req.positions, nackDelay(req.delay));
      return create(pb.NackResponseSchema);
    }),
    extendDeadline: unary(logger, "ExtendDeadline", async (req: pb.ExtendDeadlineRequest) => {
      broker.groups.extend(req.topic, req.group, req.positions, extendDeadline(req.deadline));
      return create(pb.ExtendDeadlineResponseSchema);
    }),
  };
}
