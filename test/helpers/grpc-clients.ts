import { create, type MessageInitShape, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { type Client, credentials, makeGenericClientConstructor, type ServiceError } from "@grpc/grpc-js";
import { AdminService } from "../../gen/sluice/v1/admin_pb.js";
import { BrokerService } from "../../gen/sluice/v1/broker_pb.js";
import { grpcServiceDefinition } from "../../src/server/grpc-service.js";

/** Raw grpc-js clients of both Sluice services, built from the generated descriptors. */
export interface Clients {
  readonly broker: Client;
  readonly admin: Client;
  close(): void;
}

export function connect(address: string): Clients {
  const Broker = makeGenericClientConstructor(grpcServiceDefinition(BrokerService), "BrokerService");
  const Admin = makeGenericClientConstructor(grpcServiceDefinition(AdminService), "AdminService");
  const broker = new Broker(address, credentials.createInsecure());
  const admin = new Admin(address, credentials.createInsecure());
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
