import { credentials, makeGenericClientConstructor } from "@grpc/grpc-js";
import { AdminService } from "../../../gen/sluice/v1/admin_pb.js";
import { BrokerService } from "../../../gen/sluice/v1/broker_pb.js";
import { grpcServiceDefinition } from "../../../src/server/grpc-service.js";
import type { Clients } from "../../helpers/grpc-clients.js";

const Broker = makeGenericClientConstructor(grpcServiceDefinition(BrokerService), "BrokerService");
const Admin = makeGenericClientConstructor(grpcServiceDefinition(AdminService), "AdminService");

/**
 * Clients on a TCP connection of their own. grpc-js otherwise shares one
 * connection among every client of an address (its global subchannel pool),
 * which would put all of a test's "clients" on one HTTP/2 session.
 */
export function ownConnection(address: string): Clients {
  const options = { "grpc.use_local_subchannel_pool": 1 };
  const broker = new Broker(address, credentials.createInsecure(), options);
  const admin = new Admin(address, credentials.createInsecure(), { ...options, channelOverride: broker.getChannel() });
  return {
    broker,
    admin,
    close() {
      broker.close();
      admin.close();
    },
  };
}
