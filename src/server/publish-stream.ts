import { create } from "@bufbuild/protobuf";
import { type ServerDuplexStream, status } from "@grpc/grpc-js";
import type { Broker } from "../broker/broker.js";
import type { Logger } from "../broker/logger.js";
import type { PublishResult } from "../broker/types.js";
import {
  type PublishStreamRequest,
  type PublishStreamResponse,
  PublishStreamResponseSchema,
  RequestErrorSchema,
} from "../../gen/sluice/v1/broker_pb.js";
import { BrokerError } from "../broker/broker-error.js";
import { MalformedRequest } from "./grpc-service.js";
import { RejectedRequest } from "./rejected-request.js";
import { encodePublishStreamResponse } from "./publish-response-encoder.js";
import { grpcCode, toStatus } from "./status.js";

/** Requests in flight on one stream before the broker stops reading it. */
const MAX_PENDING_REQUESTS = 1024;

type Call = ServerDuplexStream<PublishStreamRequest, PublishStreamResponse | Uint8Array>;

/**
 * PublishStream: every request is published as it arrives; responses go out
 * in request order, each as soon as it and all before it are done. Reading
 * pauses while too many requests are pending, the client does not read, or
 * the broker holds its limit of publishes not yet durable
 * (`--max-pending-publish-bytes`, see `publish-budget.ts`): HTTP/2 flow
 * control then holds the client back.
 * When the broker starts shutting down, the stream stops reading, answers
 * the requests it accepted, then ends with UNAVAILABLE: a client's publisher
 * keeps its stream open while idle, and would otherwise hold the shutdown
 * until the grace period ran out. Requests it did not read were not stored;
 * the client resends them after reconnecting.
 */
export function handlePublishStream(broker: Broker, logger: Logger, call: Call): void {
  const slots: Array<{ response?: PublishStreamResponse | Uint8Array }> = [];
  let ended = false;
  let finished = false;
  let blocked = false;
  let shuttingDown = false;
  /** Paused until the broker's publish budget has room. */
  let waitingForRoom = false;
  const budget = broker.publishBudget;

  const onClosing = () => {
    if (finished) return;
    shuttingDown = true;
    call.pause();
    pump();
  };
  const stopListening = () => broker.closing.removeEventListener("abort", onClosing);

  const finish = (err?: unknown) => {
    if (finished) return;
    finished = true;
    stopListening();
    if (err === undefined) call.end();
    else call.emit("error", toStatus(err, logger, "PublishStream"));
  };

  const pump = () => {
    while (!finished && slots.length > 0 && slots[0]!.response !== undefined) {
      const { response } = slots.shift()!;
      if (!call.write(response!)) blocked = true;
    }
    if (slots.length === 0 && ended) finish();
    else if (slots.length === 0 && shuttingDown) finish(new BrokerError("unavailable", "the broker is shutting down; reconnect"));
    else readMore();
  };

  const readMore = () => {
    if (finished || blocked || shuttingDown || waitingForRoom || slots.length >= MAX_PENDING_REQUESTS) return;
    if (budget.spent) waitForRoom();
    else call.resume();
  };

  const waitForRoom = () => {
    if (waitingForRoom) return;
    waitingForRoom = true;
    call.pause();
    void budget.room().then(() => {
      waitingForRoom = false;
      pump();
    });
  };

  call.on("drain", () => {
    blocked = false;
    pump();
  });

  call.on("data", (received: PublishStreamRequest | MalformedRequest | RejectedRequest<PublishStreamRequest>) => {
    // After shutdown began, requests still buffered are left unread (and unanswered).
    if (finished || shuttingDown) return;
    if (received instanceof MalformedRequest) {
      finished = true;
      call.emit("error", { code: status.INVALID_ARGUMENT, details: `malformed PublishStream request: ${received.reason}` });
      return;
    }
    // A request the edge refused (e.g. no `publish` permission) is answered in its turn, like a failed publish.
    const req = received instanceof RejectedRequest ? received.request : received;
    const slot: { response?: PublishStreamResponse | Uint8Array } = {};
    slots.push(slot);
    (received instanceof RejectedRequest ? Promise.reject(received.reason) : broker.publish(req.topic, req.messages)).then(
      (results: PublishResult[]) => {
        slot.response = encodePublishStreamResponse(req.requestId, results);
        pump();
      },
      (err: unknown) => {
        const s = toStatus(err, logger, "PublishStream");
        if (grpcCode(err) === status.UNAVAILABLE) return finish(err);
        slot.response = create(PublishStreamResponseSchema, {
          requestId: req.requestId,
          error: create(RequestErrorSchema, { code: s.code ?? status.INTERNAL, message: s.details ?? "" }),
        });
        pump();
      },
    );
    if (slots.length >= MAX_PENDING_REQUESTS) call.pause();
    else if (budget.spent) waitForRoom();
  });

  call.on("end", () => {
    ended = true;
    pump();
  });
  call.on("error", () => {
    finished = true;
    stopListening();
  });
  call.on("cancelled", () => {
    finished = true;
    stopListening();
  });
  if (broker.closing.aborted) onClosing();
  else broker.closing.addEventListener("abort", onClosing, { once: true });
}
