import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { ClientDuplexStream, ServiceError } from "@grpc/grpc-js";
import {
  type Delivery,
  type SubscribeRequest,
  SubscribeRequestSchema,
  type SubscribeRequest_OpenSchema,
  type SubscribeResponse,
} from "../../../gen/sluice/v1/broker_pb.js";
import type { Clients } from "../../helpers/grpc-clients.js";
import { type History, posKey } from "./history.js";

/** How an {@link AckConsumer} behaves. */
export interface AckConsumerOptions {
  readonly topic: string;
  readonly group: string;
  readonly name: string;
  readonly maxInFlight: number;
  /** The share of deliveries given back with `nack` instead of acked. */
  readonly nackRate: number;
  readonly random: () => number;
  /** Extra fields of `open` (e.g. group settings). */
  readonly open?: Partial<MessageInitShape<typeof SubscribeRequest_OpenSchema>>;
}

/**
 * A consumer on raw gRPC that records everything in a {@link History}: it
 * opens Subscribe with `ack_confirmations`, acks (or now and then nacks)
 * each delivery on the next event-loop turn with a fresh `ack_id`, and
 * records deliveries, acks sent and confirmations. A broker restart ends its
 * stream; {@link attach} opens the next one on the new process.
 */
export class AckConsumer {
  #stream: ClientDuplexStream<SubscribeRequest, SubscribeResponse> | undefined;
  #pending: Array<{ partition: number; offset: bigint }> = [];
  #flushScheduled = false;
  #ended: Promise<void> = Promise.resolve();
  deliveries = 0;

  constructor(
    readonly history: History,
    readonly options: AckConsumerOptions,
  ) {}

  /** Opens a stream on `clients`; resolves once the broker confirmed `open`. */
  attach(clients: Clients, lifetime: number): Promise<void> {
    const fn = (clients.broker as unknown as Record<string, Function>)["subscribe"]!;
    const stream = fn.call(clients.broker) as ClientDuplexStream<SubscribeRequest, SubscribeResponse>;
    this.#stream = stream;
    this.#pending = [];
    const { topic, group, name, maxInFlight } = this.options;
    let endStream!: () => void;
    this.#ended = new Promise((r) => (endStream = r));
    const opened = new Promise<void>((resolve, reject) => {
      stream.on("data", (res: SubscribeResponse) => {
        const r = res.response;
        if (r.case === "subscribed") resolve();
        else if (r.case === "deliveries") this.#onDeliveries(stream, lifetime, r.value.deliveries);
        else if (r.case === "ackConfirmation") {
          this.history.acksConfirmed.push({
            seq: this.history.next(),
            group,
            ackId: r.value.ackId,
            ignored: new Set(r.value.ignored.map((p) => posKey(p.partition, p.offset))),
          });
        }
      });
      stream.on("error", (err: ServiceError) => {
        // UNAVAILABLE / CANCELLED: the broker went away (or we cancelled).
        if (err.code !== 14 && err.code !== 1) this.history.streamErrors.push(`${name}: ${err.code} ${err.details}`);
        reject(err);
        endStream();
      });
      stream.on("end", endStream);
      stream.on("close", endStream);
    });
    opened.catch(() => undefined);
    stream.write(
      create(SubscribeRequestSchema, {
        request: { case: "open", value: { topic, group, maxInFlight, consumerName: name, ackConfirmations: true, ...this.options.open } },
      }),
    );
    return opened;
  }

  /** Half-closes the current stream and resolves once the broker ended it. */
  async detach(): Promise<void> {
    const s = this.#stream;
    this.#stream = undefined;
    if (s === undefined) return;
    if (!s.writableEnded) s.end();
    await this.#ended;
  }

  /** Cancels the current stream without waiting. */
  cancel(): void {
    this.#stream?.cancel();
    this.#stream = undefined;
  }

  #onDeliveries(stream: ClientDuplexStream<SubscribeRequest, SubscribeResponse>, lifetime: number, ds: readonly Delivery[]): void {
    for (const d of ds) {
      const m = d.message!;
      this.deliveries++;
      this.history.deliveries.push({
        seq: this.history.next(),
        group: this.options.group,
        consumer: this.options.name,
        lifetime,
        partition: m.partition,
        offset: m.offset,
        attempt: d.attempt,
        key: m.key,
        messageId: m.messageId,
      });
      this.#pending.push({ partition: m.partition, offset: m.offset });
    }
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#settle(stream, lifetime);
    });
  }

  /** Acks (or nacks) what this stream received since the last turn. */
  #settle(stream: ClientDuplexStream<SubscribeRequest, SubscribeResponse>, lifetime: number): void {
    if (stream !== this.#stream || !stream.writable) return;
    const ack: Array<{ partition: number; offset: bigint }> = [];
    const nack: Array<{ partition: number; offset: bigint }> = [];
    for (const p of this.#pending.splice(0)) (this.options.random() < this.options.nackRate ? nack : ack).push(p);
    if (nack.length > 0) stream.write(create(SubscribeRequestSchema, { request: { case: "nack", value: { positions: nack } } }));
    if (ack.length === 0) return;
    const ackId = this.history.nextAckId();
    this.history.acksSent.push({ seq: this.history.next(), group: this.options.group, lifetime, ackId, positions: ack });
    stream.write(create(SubscribeRequestSchema, { request: { case: "ack", value: { positions: ack, ackId } } }));
  }
}
