import { create, type DescService, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type Client,
  type ClientDuplexStream,
  credentials,
  makeGenericClientConstructor,
  type MethodDefinition,
  type ServiceDefinition,
  type ServiceError,
  type StatusObject,
} from "@grpc/grpc-js";
import {
  type PublishStreamRequest,
  type PublishStreamResponse,
  SubscribeRequestSchema,
  type SubscribeRequest,
  type SubscribeResponse,
} from "../../gen/sluice/v1/broker_pb.js";

// Calls below the TestSubscriber level, for tests of what the broker does
// with requests a well-behaved client would never send.

/** A PublishStream, and all its responses once it ends (rejects on an error status). */
export function rawPublishStream(broker: Client): {
  stream: ClientDuplexStream<PublishStreamRequest, PublishStreamResponse>;
  responses: Promise<PublishStreamResponse[]>;
} {
  const fn = (broker as unknown as Record<string, (this: Client) => unknown>).publishStream!;
  const stream = fn.call(broker) as ClientDuplexStream<PublishStreamRequest, PublishStreamResponse>;
  const responses = new Promise<PublishStreamResponse[]>((resolve, reject) => {
    const out: PublishStreamResponse[] = [];
    stream.on("data", (r: PublishStreamResponse) => out.push(r));
    stream.on("error", reject);
    stream.on("end", () => resolve(out));
  });
  return { stream, responses };
}

/** A Subscribe stream whose first message the test chooses; `status` is its final status. */
export function rawSubscribe(broker: Client) {
  const fn = (broker as unknown as Record<string, (this: Client) => unknown>).subscribe!;
  const stream = fn.call(broker) as ClientDuplexStream<SubscribeRequest, SubscribeResponse>;
  const responses: SubscribeResponse[] = [];
  stream.on("data", (r: SubscribeResponse) => responses.push(r));
  stream.on("error", () => {}); // the final status arrives through `status`
  const final = new Promise<StatusObject>((resolve) => stream.on("status", resolve));
  return {
    responses,
    status: final,
    /** Resolves once `n` responses arrived; rejects if the stream ends first. */
    responsesArrived(n: number): Promise<SubscribeResponse[]> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (responses.length < n) return;
          stream.off("data", check);
          resolve(responses.slice(0, n));
        };
        stream.on("data", check);
        void final.then((st) => reject(new Error(`stream ended with ${st.code} ${st.details} after ${responses.length} responses`)));
        check();
      });
    },
    send(req: MessageInitShape<typeof SubscribeRequestSchema>) {
      stream.write(create(SubscribeRequestSchema, req));
    },
  };
}

/** A grpc-js client that sends and receives raw bytes on every method of `service`. */
export function rawClient(service: DescService, address: string): Client {
  const identity = (b: Buffer) => b;
  const def: Record<string, MethodDefinition<Buffer, Buffer>> = {};
  for (const m of service.methods) {
    def[m.localName] = {
      path: `/${service.typeName}/${m.name}`,
      requestStream: m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming",
      responseStream: m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming",
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    };
  }
  const Ctor = makeGenericClientConstructor(def as ServiceDefinition, service.typeName);
  return new Ctor(address, credentials.createInsecure());
}

/** Sends `bytes` as a unary request; resolves with the error, or undefined on success. */
export function rawUnary(client: Client, method: string, bytes: Buffer): Promise<ServiceError | undefined> {
  const fn = (client as unknown as Record<string, Function>)[method]!;
  return new Promise((resolve) => fn.call(client, bytes, (err: ServiceError | null) => resolve(err ?? undefined)));
}

/** Sends `bytes` as the only message of a stream; resolves with the final status. */
export function rawStream(client: Client, method: string, bytes: Buffer): Promise<StatusObject> {
  const fn = (client as unknown as Record<string, Function>)[method]!;
  const stream = fn.call(client) as ClientDuplexStream<Buffer, Buffer>;
  const final = new Promise<StatusObject>((resolve) => stream.on("status", resolve));
  stream.on("error", () => {});
  stream.on("data", () => {});
  stream.write(bytes);
  stream.end();
  return final;
}
