import { create } from "@bufbuild/protobuf";
import type { MethodDefinition } from "@grpc/grpc-js";
import type { CallOptions } from "./client-options.js";
import { Code } from "./code.js";
import { BrokerService, FetchRequestSchema } from "./gen/sluice/v1/broker_pb.js";
import { grpcServiceDefinition } from "./grpc-service.js";
import { durationField } from "./group-settings.js";
import { FetchSettler } from "./fetch-settler.js";
import type { Logger } from "./logger.js";
import { ReceivedMessage } from "./received-message.js";
import { SluiceError } from "./sluice-error.js";

const broker = grpcServiceDefinition(BrokerService);

/** Options of {@link SluiceClient.fetch}. */
export interface FetchOptions {
  /** The most messages to lease (1 to 10 000). Default 1. */
  maxMessages?: number;
  /**
   * How long to wait for the first message when none is ready, in ms (0 to
   * 30 000). Default 0: answer at once. The call's deadline is the client's
   * `deadlineMs` plus this, unless the call options set one.
   */
  maxWaitMs?: number;
}

/** Makes one unary call on the broker service; rejects with a {@link SluiceError}. @internal */
export type UnaryInvoker = <I, O>(method: MethodDefinition<I, O>, request: I, call?: CallOptions) => Promise<O>;

/**
 * Pull-style consuming for a client: `fetch` leases messages with the unary
 * `Fetch` RPC and hands them out as {@link ReceivedMessage}s whose verbs go
 * through one {@link FetchSettler} per topic and group.
 * @internal
 */
export class Fetcher {
  readonly #invoke: UnaryInvoker;
  readonly #deadlineMs: number;
  readonly #logger: Logger;
  readonly #settlers = new Map<string, FetchSettler>();

  constructor(invoke: UnaryInvoker, deadlineMs: number, logger: Logger) {
    this.#invoke = invoke;
    this.#deadlineMs = deadlineMs;
    this.#logger = logger;
  }

  /** Leases up to `maxMessages` of the group's messages; `[]` when none came within `maxWaitMs`. */
  async fetch(topic: string, group: string, options: FetchOptions, call?: CallOptions): Promise<ReceivedMessage[]> {
    const maxMessages = options.maxMessages ?? 1;
    if (!Number.isInteger(maxMessages) || maxMessages < 1 || maxMessages > 0xffff_ffff) {
      throw new SluiceError(Code.InvalidArgument, `maxMessages must be a positive whole number, got ${maxMessages}`);
    }
    const maxWaitMs = options.maxWaitMs ?? 0;
    const request = create(FetchRequestSchema, { topic, group, maxMessages, maxWait: durationField("maxWaitMs", maxWaitMs) });
    const deadlineMs = call?.deadlineMs ?? this.#deadlineMs + maxWaitMs;
    const response = await this.#invoke(broker.fetch, request, { deadlineMs, signal: call?.signal });
    if (response.deliveries.length === 0) return [];
    const settler = this.#settler(topic, group);
    return response.deliveries.map((d) => new ReceivedMessage(d, 0, settler));
  }

  /** Resolves once every verb of fetched messages made so far has been answered. Never rejects. */
  async idle(): Promise<void> {
    await Promise.all([...this.#settlers.values()].map((s) => s.idle()));
  }

  #settler(topic: string, group: string): FetchSettler {
    const key = `${topic}\u0000${group}`;
    let settler = this.#settlers.get(key);
    if (!settler) {
      settler = new FetchSettler(
        topic,
        group,
        {
          ack: (r) => this.#invoke(broker.ack, r),
          nack: (r) => this.#invoke(broker.nack, r),
          extendDeadline: (r) => this.#invoke(broker.extendDeadline, r),
        },
        this.#logger,
      );
      this.#settlers.set(key, settler);
    }
    return settler;
  }
}
