import { create, type MessageInitShape, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import {
  type ChannelCredentials,
  type Client,
  credentials,
  InterceptingCall,
  type Interceptor,
  makeGenericClientConstructor,
  type ServiceError,
} from "@grpc/grpc-js";
import { AdminService } from "../../gen/sluice/v1/admin_pb.js";
import { BrokerService } from "../../gen/sluice/v1/broker_pb.js";
import { grpcServiceDefinition } from "../../src/server/grpc-service.js";

/** Raw grpc-js clients of both Sluice services, built from the generated descriptors. */
export interface Clients {
  readonly broker: Client;
  readonly admin: Client;
  close(): void;
}

/** How {@link connect} reaches the broker: plaintext and anonymous unless told otherwise. */
export interface ConnectOptions {
  readonly credentials?: ChannelCredentials;
  /** Sent as `authorization: Bearer <token>` on every call. */
  readonly token?: string;
  /** Channel options, e.g. `grpc.ssl_target_name_override`. */
  readonly channel?: Record<string, string | number>;
  /**
   * Both clients on one TCP connection of their own. grpc-js otherwise shares
   * one connection among every client of an address (its global subchannel
   * pool), which would put all of a test's "clients" on one HTTP/2 session.
   */
  readonly ownConnection?: boolean;
}

/** An interceptor adding `authorization: Bearer <token>` (works on plaintext channels too, unlike call credentials). */
export function bearer(token: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set("authorization", `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}

export function connect(address: string, options: ConnectOptions = {}): Clients {
  const Broker = makeGenericClientConstructor(grpcServiceDefinition(BrokerService), "BrokerService");
  const Admin = makeGenericClientConstructor(grpcServiceDefinition(AdminService), "AdminService");
  const creds = options.credentials ?? credentials.createInsecure();
  const clientOptions = {
    ...options.channel,
    ...(options.ownConnection ? { "grpc.use_local_subchannel_pool": 1 } : {}),
    interceptors: options.token === undefined ? [] : [bearer(options.token)],
  };
  const broker = new Broker(address, creds, clientOptions);
  const admin = new Admin(address, creds, options.ownConnection ? { ...clientOptions, channelOverride: broker.getChannel() } : clientOptions);
  return {
    broker,
    admin,
    close() {
      broker.close();
      admin.close();
    },
  };
}

type Method = { input: DescMessage; output: DescMessage; localName: string };

/** Calls a unary method; rejects with the grpc-js ServiceError. */
export function call<M extends Method>(
  client: Client,
  method: M,
  req: MessageInitShape<M["input"]>,
): Promise<MessageShape<M["output"]>> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, Function>)[method.localName]!;
    fn.call(client, create(method.input, req), (err: ServiceError | null, res: MessageShape<M["output"]>) =>
      err ? reject(err) : resolve(res),
    );
  });
}

/** Expects a call to fail with `code`; returns the error for more checks. */
export async function expectCode(p: Promise<unknown>, code: number): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    const e = err as ServiceError;
    if (e.code !== code) throw new Error(`expected status ${code}, got ${e.code}: ${e.details}`);
    return e;
  }
  throw new Error(`expected status ${code}, but the call succeeded`);
}

export { AdminService, BrokerService };
