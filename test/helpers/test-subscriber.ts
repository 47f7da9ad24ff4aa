import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { ClientDuplexStream, ServiceError } from "@grpc/grpc-js";
import {
  type Delivery,
  type SubscribeRequest,
  SubscribeRequestSchema,
  type SubscribeRequest_OpenSchema,
  type SubscribeResponse,
  type SubscribeResponse_AckConfirmation,
  type SubscribeResponse_Subscribed,
} from "../../gen/sluice/v1/broker_pb.js";
import type { Clients } from "./grpc-clients.js";

export interface Pos {
  partition: number;
  offset: bigint;
}

/**
 * A Subscribe stream for tests: collects deliveries in order and lets the
 * test await "the next n deliveries" or the end of the stream.
 */
export class TestSubscriber {
  readonly deliveries: Delivery[] = [];
  readonly confirmations: SubscribeResponse_AckConfirmation[] = [];
  readonly stream: ClientDuplexStream<SubscribeRequest, SubscribeResponse>;
  subscribed: SubscribeResponse_Subscribed | undefined;
  error: ServiceError | undefined;
  ended = false;
  #read = 0;
  #waiters: Array<() => void> = [];
  readonly #opened: Promise<SubscribeResponse_Subscribed>;

  constructor(clients: Clients, open: MessageInitShape<typeof SubscribeRequest_OpenSchema>) {
    const fn = (clients.broker as unknown as Record<string, Function>).subscribe!;
    this.stream = fn.call(clients.broker) as ClientDuplexStream<SubscribeRequest, SubscribeResponse>;
    this.#opened = new Promise((resolve, reject) => {
      this.stream.on("data", (res: SubscribeResponse) => {
        if (res.response.case === "subscribed") {
          this.subscribed = res.response.value;
          resolve(res.response.value);
        } else if (res.response.case === "deliveries") {
          this.deliveries.push(...res.response.value.deliveries);
        } else if (res.response.case === "ackConfirmation") {
          this.confirmations.push(res.response.value);
        }
        this.#wake();
      });
      this.stream.on("error", (err: ServiceError) => {
        this.error = err;
        this.ended = true;
        reject(err);
        this.#wake();
      });
      this.stream.on("end", () => {
        this.ended = true;
        this.#wake();
      });
    });
    this.#opened.catch(() => {});
    this.send({ request: { case: "open", value: open } });
  }

  /** Resolves once the broker confirmed `open`. */
  opened(): Promise<SubscribeResponse_Subscribed> {
    return this.#opened;
  }

  send(req: MessageInitShape<typeof SubscribeRequestSchema>): void {
    this.stream.write(create(SubscribeRequestSchema, req));
  }

  /** The next `n` deliveries not yet taken by a previous call. */
  async take(n: number, timeoutMs = 10_000): Promise<Delivery[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.deliveries.length - this.#read < n) {
      if (this.ended) throw new Error(`stream ended after ${this.deliveries.length} deliveries: ${this.error?.message ?? "ok"}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} deliveries; have ${this.deliveries.length - this.#read}`);
      await this.#event(left);
    }
    const out = this.deliveries.slice(this.#read, this.#read + n);
    this.#read += n;
    return out;
  }

  /** The next ack confirmation not yet returned. */
  async confirmation(timeoutMs = 10_000): Promise<SubscribeResponse_AckConfirmation> {
    const deadline = Date.now() + timeoutMs;
    while (this.confirmations.length === 0) {
      const left = deadline - Date.now();
      if (this.ended || left <= 0) throw new Error("no ack confirmation arrived");
      await this.#event(left);
    }
    return this.confirmations.shift()!;
  }

  /** Resolves once a delivery is waiting to be taken (or the stream ended). */
  async ready(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.untaken === 0 && !this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for a delivery");
      await this.#event(left);
    }
  }

  /** How many deliveries arrived that no take() has returned. */
  get untaken(): number {
    return this.deliveries.length - this.#read;
  }

  /** Resolves when the stream ends (with or without an error). */
  async closed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for the stream to end");
      await this.#event(left);
    }
  }

  ack(positions: Pos[]): void {
    this.send({ request: { case: "ack", value: { positions } } });
  }

  /** Nacks; a negative `delayMs` leaves the delay unset (the group's backoff applies). */
  nack(positions: Pos[], delayMs = 0): void {
    const delay = delayMs < 0 ? undefined : { seconds: BigInt(Math.floor(delayMs / 1000)), nanos: (delayMs % 1000) * 1e6 };
    this.send({ request: { case: "nack", value: { positions, delay } } });
  }

  extend(positions: Pos[], ms: number): void {
    this.send({
      request: {
        case: "extend",
        value: { positions, deadline: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 } },
      },
    });
  }

  /** Half-closes the stream: the broker releases its leases and ends it. */
  end(): void {
    this.stream.end();
  }

  cancel(): void {
    this.stream.cancel();
  }

  #event(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  #wake(): void {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }
}

/** The positions of deliveries. */
export function positions(ds: Delivery[]): Pos[] {
  return ds.map((d) => ({ partition: d.message!.partition, offset: d.message!.offset }));
}
