import { type handleUnaryCall, type ServerUnaryCall, status } from "@grpc/grpc-js";
import type { Logger } from "../broker/logger.js";
import { MalformedRequest } from "./grpc-service.js";
import { toStatus } from "./status.js";

/**
 * Adapts an async function to a grpc-js unary handler: malformed requests
 * get INVALID_ARGUMENT, and a rejection becomes a status through
 * {@link toStatus} (grpc-js itself leaves a rejected async handler hanging).
 */
export function unary<Req, Res>(
  logger: Logger,
  method: string,
  fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const req = call.request as Req | MalformedRequest;
    if (req instanceof MalformedRequest) {
      callback({ code: status.INVALID_ARGUMENT, details: `malformed ${method} request: ${req.reason}` });
      return;
    }
    let p: Promise<Res>;
    try {
      p = fn(req, call);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (res) => callback(null, res),
      (err: unknown) => callback(toStatus(err, logger, method)),
    );
  };
}
