import { create } from "@bufbuild/protobuf";
import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { Broker } from "../broker/broker.js";
import type { Logger } from "../broker/logger.js";
import { type PublishRequest, PublishResponseSchema } from "../../gen/sluice/v1/broker_pb.js";
import { handlePublishStream } from "./publish-stream.js";
import { handleSubscribe } from "./subscribe-stream.js";
import { unary } from "./unary.js";

/** The BrokerService handlers. */
export function brokerService(broker: Broker, logger: Logger): UntypedServiceImplementation {
  return {
    publish: unary(logger, "Publish", async (req: PublishRequest) => {
      const results = await broker.publish(req.topic, req.messages);
      return create(PublishResponseSchema, { results });
    }),
    publishStream: (call: Parameters<typeof handlePublishStream>[2]) => handlePublishStream(broker, logger, call),
    subscribe: (call: Parameters<typeof handleSubscribe>[2]) => handleSubscribe(broker, logger, call),
  };
}
