import { create, type DescMessage, type DescMethod, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { type Client, Metadata, type ServiceError, type StatusObject } from "@grpc/grpc-js";
import { AdminService } from "../../gen/sluice/v1/admin_pb.js";
import { BrokerService, type PublishStreamResponse, type SubscribeResponse } from "../../gen/sluice/v1/broker_pb.js";
import type { Clients } from "./grpc-clients.js";

/** Every RPC of the Sluice services, from the generated descriptors: a new RPC is probed without touching the tests. */
export const SLUICE_METHODS: readonly DescMethod[] = [...BrokerService.methods, ...AdminService.methods];

/** How a probed call ended: its status, or for PublishStream the per-request error of its one request. */
export interface Outcome {
  readonly code: number;
  readonly details: string;
}

/** Names a call acts on. */
export interface Target {
  readonly topic: string;
  readonly group: string;
}

/**
 * Calls `method` once with a request naming `target` (the `topic`, `name`
 * and `group` fields, whichever the request has) and reports how it ended.
 * Streams: PublishStream sends one request; Subscribe sends `open` and
 * counts the `subscribed` answer as success. Another streaming RPC makes
 * this throw, so the tests are extended rather than silently passed.
 */
export function probe(clients: Clients, method: DescMethod, target: Target): Promise<Outcome> {
  const client = method.parent.typeName === BrokerService.typeName ? clients.broker : clients.admin;
  const path = `/${method.parent.typeName}/${method.name}`;
  const serialize = (m: unknown) => Buffer.from(toBinary(method.input, m as MessageShape<DescMessage>));
  const deserialize = (b: Buffer) => fromBinary(method.output, b) as unknown;
  if (method.methodKind === "unary") {
    return new Promise((resolve) => {
      client.makeUnaryRequest(path, serialize, deserialize, requestFor(method.input, target), new Metadata(), (err: ServiceError | null) =>
        resolve(err ? { code: err.code, details: err.details } : { code: 0, details: "" }),
      );
    });
  }
  if (method.methodKind !== "bidi_streaming") throw new Error(`probe: add a case for ${path}`);
  const first =
    method.name === "PublishStream"
      ? { requestId: 1n, topic: target.topic, messages: [{ payload: new Uint8Array([1]) }] }
      : method.name === "Subscribe"
        ? { request: { case: "open", value: { topic: target.topic, group: target.group } } }
        : undefined;
  if (first === undefined) throw new Error(`probe: add a case for ${path}`);
  return stream(client, path, serialize, deserialize, create(method.input, first as never));
}

function stream(
  client: Client,
  path: string,
  serialize: (m: unknown) => Buffer,
  deserialize: (b: Buffer) => unknown,
  request: unknown,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const call = client.makeBidiStreamRequest(path, serialize, deserialize, new Metadata());
    let outcome: Outcome | undefined;
    call.on("data", (response: PublishStreamResponse | SubscribeResponse) => {
      if (outcome !== undefined) return;
      if ("requestId" in response) {
        outcome = response.error ? { code: response.error.code, details: response.error.message } : { code: 0, details: "" };
        return;
      }
      // Subscribed: the stream would go on delivering, so stop here.
      outcome = { code: 0, details: "" };
      call.cancel();
    });
    call.on("error", () => {});
    call.on("status", (s: StatusObject) => resolve(outcome ?? { code: s.code, details: s.details }));
    call.write(request);
    call.end();
  });
}

/** A request of type `schema` with its topic/name/group fields (those it has) set to `target`. */
function requestFor(schema: DescMessage, target: Target): unknown {
  const init: Record<string, string> = {};
  for (const field of schema.fields) {
    if (field.localName === "topic" || field.localName === "name") init[field.localName] = target.topic;
    if (field.localName === "group") init[field.localName] = target.group;
  }
  return create(schema, init as never);
}
