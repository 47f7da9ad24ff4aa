import { create } from "@bufbuild/protobuf";
import type { ServerDuplexStream } from "@grpc/grpc-js";
import type { Broker } from "../broker/broker.js";
import { BrokerError } from "../broker/broker-error.js";
import type { Logger } from "../broker/logger.js";
import type { Subscription } from "../broker/subscription.js";
import { MAX_ACK_DEADLINE_MS, MIN_ACK_DEADLINE_MS } from "../broker/types.js";
import {
  type SubscribeRequest,
  type SubscribeResponse,
  SubscribeResponseSchema,
  SubscribeResponse_SubscribedSchema,
} from "../../gen/sluice/v1/broker_pb.js";
import { durationMs, groupSettings, settingsProto, startPosition } from "./convert.js";
import { encodeDeliveries } from "./delivery-encoder.js";
import { MalformedRequest } from "./grpc-service.js";
import { toStatus } from "./status.js";

type Call = ServerDuplexStream<SubscribeRequest, SubscribeResponse | Uint8Array>;

/**
 * Subscribe: `open` first, then acks, nacks and extensions from the client
 * while batches of deliveries flow back. Deliveries are pulled from the
 * subscription only when the previous write was accepted (gRPC flow
 * control), so a client that stops reading holds at most one batch here.
 */
export function handleSubscribe(broker: Broker, logger: Logger, call: Call): void {
  let sub: Subscription | null = null;
  let opening = false;
  let finished = false;
  const gone = new AbortController(); // the call is over, one way or another

  const fail = (err: unknown) => {
    if (finished) return;
    finished = true;
    sub?.close();
    gone.abort();
    call.emit("error", toStatus(err, logger, "Subscribe"));
  };
  const finishOk = () => {
    if (finished) return;
    finished = true;
    sub?.close();
    gone.abort();
    call.end();
  };

  const deliver = async (s: Subscription, topic: string) => {
    try {
      for (;;) {
        const batch = await s.next();
        if (batch === null) break;
        if (!call.write(encodeDeliveries(topic, batch))) await drained(call, gone.signal);
      }
      finishOk();
    } catch (err) {
      fail(err);
    }
  };

  const open = async (o: NonNullable<SubscribeRequest_Open>) => {
    const s = await broker.subscribe({
      topic: o.topic,
      group: o.group,
      maxInFlight: o.maxInFlight,
      start: o.start === undefined ? undefined : startPosition(o.start),
      settings: groupSettings(o.settings),
      consumerName: o.consumerName,
      peer: call.getPeer(),
    });
    if (finished) {
      s.close();
      return;
    }
    sub = s;
    call.write(
      create(SubscribeResponseSchema, {
        response: {
          case: "subscribed",
          value: create(SubscribeResponse_SubscribedSchema, {
            consumerId: s.id,
            settings: settingsProto(s.group),
            partitions: s.group.partitions.length,
          }),
        },
      }),
    );
    void deliver(s, o.topic);
  };

  call.on("data", (req: SubscribeRequest | MalformedRequest) => {
    if (finished) return;
    try {
      if (req instanceof MalformedRequest) {
        throw new BrokerError("invalid-argument", `malformed Subscribe request: ${req.reason}`);
      }
      const r = req.request;
      if (r.case === "open") {
        if (sub !== null || opening) throw new BrokerError("failed-precondition", "the stream is already open; send `open` once");
        opening = true;
        open(r.value).catch(fail);
        return;
      }
      if (r.case === undefined) throw new BrokerError("invalid-argument", "empty SubscribeRequest: set one of open, ack, nack, extend");
      if (sub === null) {
        if (!opening) throw new BrokerError("failed-precondition", `the first message on a Subscribe stream must be \`open\`, not \`${r.case}\``);
        return; // nothing can have been delivered before `open` completes
      }
      switch (r.case) {
        case "ack":
          sub.ack(r.value.positions);
          break;
        case "nack": {
          const delay = durationMs(r.value.delay, "nack delay") ?? 0;
          if (delay > MAX_ACK_DEADLINE_MS) throw new BrokerError("invalid-argument", `nack delay must be at most 600s; got ${delay / 1000}s`);
          sub.nack(r.value.positions, delay);
          break;
        }
        case "extend": {
          const ms = durationMs(r.value.deadline, "extend deadline") ?? 0;
          if (ms < MIN_ACK_DEADLINE_MS || ms > MAX_ACK_DEADLINE_MS) {
            throw new BrokerError("invalid-argument", `extend deadline must be between 1s and 600s; got ${ms / 1000}s`);
          }
          sub.extend(r.value.positions, ms);
          break;
        }
      }
    } catch (err) {
      fail(err);
    }
  });

  // The client half-closed: it will send no more acks, so its leases go back.
  call.on("end", finishOk);
  call.on("cancelled", () => {
    finished = true;
    sub?.close();
    gone.abort();
  });
  call.on("error", () => {
    sub?.close();
    gone.abort();
  });
}

type SubscribeRequest_Open = Extract<SubscribeRequest["request"], { case: "open" }>["value"];

/** Resolves when `call` can take more writes, or when `signal` aborts. */
function drained(call: Call, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      call.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    call.on("drain", done);
    signal.addEventListener("abort", done, { once: true });
  });
}

