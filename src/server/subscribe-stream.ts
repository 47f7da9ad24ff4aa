import { create, toBinary } from "@bufbuild/protobuf";
import type { ServerDuplexStream } from "@grpc/grpc-js";
import type { Broker } from "../broker/broker.js";
import { BrokerError } from "../broker/broker-error.js";
import type { Logger } from "../broker/logger.js";
import type { Subscription } from "../broker/subscription.js";
import {
  type SubscribeRequest,
  type SubscribeResponse,
  SubscribeResponseSchema,
  SubscribeResponse_AckConfirmationSchema,
  SubscribeResponse_SubscribedSchema,
} from "../../gen/sluice/v1/broker_pb.js";
import { extendDeadline, groupSettings, nackDelay, settingsProto, startPosition } from "./convert.js";
import { encodeDeliveries } from "./delivery-encoder.js";
import { MalformedRequest } from "./grpc-service.js";
import { toStatus } from "./status.js";

type Call = ServerDuplexStream<SubscribeRequest, SubscribeResponse | Uint8Array>;
type Open = Extract<SubscribeRequest["request"], { case: "open" }>["value"];

/** The default of --max-pending-bytes. */
export const DEFAULT_MAX_PENDING_BYTES = 4 << 20;

/**
 * Subscribe: `open` first, then acks, nacks and extensions from the client
 * while batches of deliveries flow back. Messages that arrive while `open`
 * is being processed wait for it.
 *
 * A client that does not read (or a network that does not carry) must not
 * make the broker hold its messages: a write completes only once HTTP/2 flow
 * control let it out, and grpc-js accepts 16 writes before `write()` says
 * stop, each up to a 1 MiB batch. So the stream counts the bytes of writes
 * not yet completed, and takes the next batch from the subscription (leasing
 * its messages) only while they are under `maxPendingBytes`: at most that
 * plus one batch waits here. Ack confirmations are counted too; past the
 * limit the stream stops reading the client's messages until they are sent.
 */
export function handleSubscribe(broker: Broker, logger: Logger, call: Call, maxPendingBytes = DEFAULT_MAX_PENDING_BYTES): void {
  let sub: Subscription | null = null;
  let opening = false;
  let confirmations = false;
  let halfClosed = false;
  let finished = false;
  const early: Array<SubscribeRequest | MalformedRequest> = [];
  const gone = new AbortController(); // the call is over, one way or another
  let pendingBytes = 0; // written, and not yet out of grpc-js and HTTP/2
  let pendingConfirmations = 0; // the part of pendingBytes that is ack confirmations
  let onWritten: (() => void) | undefined;
  /** Writes and counts a response until grpc-js hands it to the connection. */
  const write = (bytes: Uint8Array, confirmation: boolean) => {
    const n = bytes.byteLength;
    pendingBytes += n;
    if (confirmation) pendingConfirmations += n;
    call.write(bytes, () => {
      pendingBytes -= n;
      if (confirmation) {
        pendingConfirmations -= n;
        if (pendingConfirmations < maxPendingBytes && call.isPaused()) call.resume();
      }
      onWritten?.();
    });
    // A client that asks for confirmations and does not read them is sent no more.
    if (pendingConfirmations >= maxPendingBytes) call.pause();
  };
  /** Resolves once pending bytes are under the limit, or the call is over. */
  const room = () =>
    new Promise<void>((resolve) => {
      if (pendingBytes < maxPendingBytes || gone.signal.aborted) return resolve();
      const done = () => {
        if (pendingBytes >= maxPendingBytes && !gone.signal.aborted) return;
        onWritten = undefined;
        gone.signal.removeEventListener("abort", done);
        resolve();
      };
      onWritten = done;
      gone.signal.addEventListener("abort", done, { once: true });
    });

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
        // Before taking (and so leasing) more: room for them.
        await room();
        if (!(await sendNext(s, topic, write))) break;
      }
      finishOk();
    } catch (err) {
      fail(err);
    }
  };

  const open = async (o: Open) => {
    const s = await broker.groups.subscribe({
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
    confirmations = o.ackConfirmations;
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
    for (const req of early.splice(0)) handle(req);
    if (halfClosed) return finishOk();
    void deliver(s, o.topic);
  };

  const handle = (req: SubscribeRequest | MalformedRequest) => {
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
      if (sub === null && opening) {
        early.push(req);
        return;
      }
      if (r.case === undefined) throw new BrokerError("invalid-argument", "empty SubscribeRequest: set one of open, ack, nack, extend");
      if (sub === null) {
        throw new BrokerError("failed-precondition", `the first message on a Subscribe stream must be \`open\`, not \`${r.case}\``);
      }
      switch (r.case) {
        case "ack":
          ack(sub, r.value.positions, r.value.ackId);
          break;
        case "nack":
          sub.nack(r.value.positions, nackDelay(r.value.delay));
          break;
        case "extend":
          sub.extend(r.value.positions, extendDeadline(r.value.deadline));
          break;
      }
    } catch (err) {
      fail(err);
    }
  };

  const ack = (s: Subscription, positions: Parameters<Subscription["ack"]>[0], ackId: bigint) => {
    const wanted = confirmations && ackId !== 0n;
    const outcome = s.ack(positions, wanted);
    if (!wanted || outcome === undefined) return;
    outcome.durable?.then(
      () => {
        if (finished) return;
        const response = create(SubscribeResponseSchema, {
          response: {
            case: "ackConfirmation",
            value: create(SubscribeResponse_AckConfirmationSchema, {
              ackId,
              acked: outcome.acked,
              ignored: outcome.ignored,
            }),
          },
        });
        write(toBinary(SubscribeResponseSchema, response), true);
      },
      (err: unknown) => fail(err),
    );
  };

  call.on("data", handle);
  // The client half-closed: it will send no more acks, so its leases go back.
  call.on("end", () => {
    halfClosed = true;
    if (!opening || sub !== null) finishOk();
  });
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

/**
 * Takes the subscription's next batch and writes it encoded; false once the
 * subscription ended. A function of its own so that the batch and its
 * encoding die with its frame: kept in a variable of `deliver`'s loop, they
 * stayed alive across the next wait for room and credit (an ack round trip),
 * pinning the records and the 64 KiB packs they are views into for long
 * enough to be promoted to V8's old space, which only a full GC frees.
 */
async function sendNext(s: Subscription, topic: string, write: (bytes: Uint8Array, confirmation: boolean) => void): Promise<boolean> {
  const batch = await s.next();
  if (batch === null) return false;
  write(encodeDeliveries(topic, batch), false);
  return true;
}
