import {
  create,
  type DescMessage,
  type DescMethodBiDiStreaming,
  type DescMethodUnary,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { AdminService, type Group, type Topic } from "../../../gen/sluice/v1/admin_pb.js";
import {
  BrokerService,
  type Delivery,
  type SubscribeRequest,
  SubscribeRequestSchema,
  type SubscribeResponse,
} from "../../../gen/sluice/v1/broker_pb.js";
import type { Position } from "../../../gen/sluice/v1/message_pb.js";
import { serviceDefinition } from "./grpc-bridge.js";

const CALL_TIMEOUT_MS = 10_000;

/** The TypeScript side of the suite: @grpc/grpc-js with the generated `gen/` types. */
export class TsClient {
  readonly client: grpc.Client;

  constructor(address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure());
  }

  /** Calls a unary method; rejects with the grpc-js ServiceError. */
  unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
  ): Promise<MessageShape<O>> {
    const def = serviceDefinition(method.parent)[method.localName]!;
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize as (b: Buffer) => MessageShape<O>,
        create(method.input, request),
        { deadline: Date.now() + CALL_TIMEOUT_MS },
        (err, res) => (err ? reject(err) : resolve(res!)),
      );
    });
  }

  /** Opens a bidi stream of a method. */
  bidi<I extends DescMessage, O extends DescMessage>(
    method: DescMethodBiDiStreaming<I, O>,
  ): grpc.ClientDuplexStream<MessageShape<I>, MessageShape<O>> {
    const def = serviceDefinition(method.parent)[method.localName]!;
    return this.client.makeBidiStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize as (b: Buffer) => MessageShape<O>,
    );
  }

  async createTopic(name: string, partitions = 1): Promise<void> {
    await this.unary(AdminService.method.createTopic, { name, partitions });
  }

  async publish(topic: string, messages: { payload: string; key?: string; headers?: Record<string, string>; messageId?: string }[]) {
    const res = await this.unary(BrokerService.method.publish, {
      topic,
      messages: messages.map((m) => ({ ...m, payload: new TextEncoder().encode(m.payload) })),
    });
    return res.results;
  }

  async getTopic(name: string): Promise<Topic> {
    return (await this.unary(AdminService.method.getTopic, { name })).topic!;
  }

  async getGroup(topic: string, group: string): Promise<Group> {
    return (await this.unary(AdminService.method.getGroup, { topic, group })).group!;
  }

  close(): void {
    this.client.close();
  }
}

/**
 * A Subscribe stream driven by hand: `open` on creation, then `next()`
 * awaits deliveries, `ack()` writes acks on the same stream, `close()`
 * half-closes and awaits the broker's final status.
 */
export class TsConsumer {
  private readonly queue: Delivery[] = [];
  private readonly waiters: (() => void)[] = [];
  private status: grpc.StatusObject | undefined;
  private readonly ended: Promise<grpc.StatusObject>;

  private constructor(private readonly call: grpc.ClientDuplexStream<SubscribeRequest, SubscribeResponse>) {
    this.ended = new Promise((resolve) => {
      call.on("status", (s: grpc.StatusObject) => {
        this.status = s;
        resolve(s);
        this.wake();
      });
    });
    call.on("error", () => {}); // the status event carries it
  }

  static async open(client: TsClient, topic: string, group: string, maxInFlight = 0): Promise<TsConsumer> {
    const call = client.bidi(BrokerService.method.subscribe);
    const consumer = new TsConsumer(call);
    const subscribed = new Promise<void>((resolve, reject) => {
      call.on("data", (res: SubscribeResponse) => {
        if (res.response.case === "subscribed") resolve();
        if (res.response.case === "deliveries") {
          consumer.queue.push(...res.response.value.deliveries);
          consumer.wake();
        }
      });
      void consumer.ended.then((s) => reject(new Error(`stream ended before subscribed: ${s.code} ${s.details}`)));
    });
    call.write(create(SubscribeRequestSchema, { request: { case: "open", value: { topic, group, maxInFlight, consumerName: "ts-interop" } } }));
    await withTimeout(subscribed, CALL_TIMEOUT_MS, "subscribed");
    return consumer;
  }

  /** The next delivery; rejects if the stream ends or nothing comes within the timeout. */
  async next(timeoutMs = CALL_TIMEOUT_MS): Promise<Delivery> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.status) throw new Error(`stream ended: ${this.status.code} ${this.status.details}`);
      await withTimeout(new Promise<void>((resolve) => this.waiters.push(resolve)), deadline - Date.now(), "a delivery");
    }
    return this.queue.shift()!;
  }

  ack(positions: Position[]): void {
    this.call.write(create(SubscribeRequestSchema, { request: { case: "ack", value: { positions } } }));
  }

  /** Half-closes and resolves with the final status code (0 for OK). */
  async close(): Promise<number> {
    this.call.end();
    return (await withTimeout(this.ended, CALL_TIMEOUT_MS, "the end of the stream")).code;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** Rejects if `promise` does not settle within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), Math.max(ms, 0));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Polls `check` until it returns true. Only for broker state that has no
 * event to await, such as a group's committed offset read with GetGroup.
 */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
