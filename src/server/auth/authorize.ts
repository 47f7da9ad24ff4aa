import type { EventEmitter } from "node:events";
import {
  type MethodDefinition,
  type sendUnaryData,
  type Server,
  type ServerUnaryCall,
  type ServiceDefinition,
  status,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import type { Logger } from "../../broker/logger.js";
import { MalformedRequest } from "../grpc-service.js";
import { toStatus } from "../status.js";
import type { AccessStore } from "./access-store.js";
import { AuthError } from "./auth-error.js";
import { CallGuard, type GuardedCall } from "./call-guard.js";
import { RPC_RULES, type RpcRule } from "./rpc-permissions.js";

/** Who may call what, beyond the Sluice RPCs' own rules. */
export interface AuthorizeOptions {
  /** The tokens file in force. */
  readonly store: AccessStore;
  /** Health checks need no credentials (load balancers and probes rarely have any). */
  readonly openHealth: boolean;
  /** Reflection needs no credentials (it describes the API, not the data). */
  readonly openReflection: boolean;
}

/** A server whose `addService` puts every handler behind authentication and authorization. */
export interface AuthorizingServer extends Pick<Server, "addService"> {
  /** Stops re-checking open streams on tokens-file reloads. */
  close(): void;
}

type Policy = { readonly kind: "open" } | { readonly kind: "authenticated" } | { readonly kind: "rule"; readonly rule: RpcRule };
type Kind = "unary" | "clientStream" | "serverStream" | "bidi";
type AnyHandler = (call: never, callback?: never) => void;

const HEALTH = "grpc.health.v1.Health";
const REFLECTION = new Set(["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]);

/**
 * Wraps `server` so that every service added through it is guarded: each
 * call is authenticated first (UNAUTHENTICATED when that fails), then its
 * request checked against {@link RPC_RULES} (PERMISSION_DENIED). Health and
 * reflection are open or need any valid identity, per `options`; a method
 * with no rule makes `addService` throw, so nothing new is ever served
 * unguarded. Methods the implementation lacks answer UNIMPLEMENTED, but only
 * to an authenticated caller. The one place access is enforced.
 */
export function authorize(server: Pick<Server, "addService">, options: AuthorizeOptions, logger: Logger): AuthorizingServer {
  const guard = new CallGuard(options.store, logger.child({ component: "auth" }));
  return {
    addService(service: ServiceDefinition, implementation: UntypedServiceImplementation): void {
      const wrapped: UntypedServiceImplementation = {};
      for (const [key, method] of Object.entries(service) as Array<[string, MethodDefinition<unknown, unknown>]>) {
        const found = implementation[key] ?? (method.originalName === undefined ? undefined : implementation[method.originalName]);
        const inner = (found?.bind(implementation) ?? unimplemented(method.path, kindOf(method))) as AnyHandler;
        wrapped[key] = guarded(method.path, kindOf(method), policyOf(method.path, options), inner, guard, logger);
      }
      server.addService(service, wrapped);
    },
    close: () => guard.close(),
  };
}

function policyOf(path: string, options: AuthorizeOptions): Policy {
  const rule = RPC_RULES[path];
  if (rule !== undefined) return { kind: "rule", rule };
  const service = path.split("/")[1] ?? "";
  if (service === HEALTH) return { kind: options.openHealth ? "open" : "authenticated" };
  if (REFLECTION.has(service)) return { kind: options.openReflection ? "open" : "authenticated" };
  throw new Error(`no permission rule for ${path}: add one to src/server/auth/rpc-permissions.ts`);
}

function kindOf(m: MethodDefinition<unknown, unknown>): Kind {
  if (m.requestStream) return m.responseStream ? "bidi" : "clientStream";
  return m.responseStream ? "serverStream" : "unary";
}

function guarded(path: string, kind: Kind, policy: Policy, inner: AnyHandler, guard: CallGuard, logger: Logger): UntypedHandleCall {
  if (policy.kind === "open") return inner as UntypedHandleCall;
  const rule = policy.kind === "rule" ? policy.rule : undefined;
  const asStatus = (err: AuthError) => toStatus(err, logger, path);

  if (kind === "unary" || kind === "clientStream") {
    if (kind === "clientStream" && rule !== undefined) throw new Error(`${path}: rules for client-streaming methods are not supported`);
    return ((call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const identity = guard.identify(call, path);
      if (identity instanceof AuthError) return callback(asStatus(identity));
      if (rule === undefined) return (inner as (c: unknown, cb: unknown) => void)(call, callback);
      const request = call.request;
      if (!(request instanceof MalformedRequest)) {
        const denied = guard.check(identity, rule.needs(request), path);
        if (denied !== undefined) return callback(asStatus(denied));
      }
      const filter = rule.filter;
      const respond: sendUnaryData<unknown> =
        filter === undefined
          ? callback
          : (err, value, ...rest) => callback(err, err || value == null ? value : filter(value, identity.grants), ...rest);
      (inner as (c: unknown, cb: unknown) => void)(call, respond);
    }) as UntypedHandleCall;
  }

  return ((call: EventEmitter & GuardedCall & { request?: unknown }) => {
    const end = (err: AuthError): void => void call.emit("error", asStatus(err));
    const identity = guard.identify(call, path);
    if (identity instanceof AuthError) return end(identity);
    if (kind === "serverStream" && rule !== undefined && !(call.request instanceof MalformedRequest)) {
      const denied = guard.check(identity, rule.needs(call.request), path);
      if (denied !== undefined) return end(denied);
    }
    guard.watch(call, path, identity, kind === "bidi" ? rule : undefined, end);
    (inner as (c: unknown) => void)(call);
  }) as UntypedHandleCall;
}

/** What grpc-js answers for a method without implementation; here only after authentication. */
function unimplemented(path: string, kind: Kind): UntypedHandleCall {
  const s = { code: status.UNIMPLEMENTED, details: `${path} is not implemented by this broker` };
  if (kind === "unary" || kind === "clientStream") return ((_call: unknown, callback: sendUnaryData<unknown>) => callback(s)) as UntypedHandleCall;
  return ((call: EventEmitter) => call.emit("error", s)) as UntypedHandleCall;
}
