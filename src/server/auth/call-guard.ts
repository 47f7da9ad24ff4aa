import type { EventEmitter } from "node:events";
import type { Logger } from "../../broker/logger.js";
import { MalformedRequest } from "../grpc-service.js";
import { RejectedRequest } from "../rejected-request.js";
import type { AccessStore, ReloadOutcome } from "./access-store.js";
import { AuthError } from "./auth-error.js";
import { authenticate, type Credentials, credentialsOf, type Identity } from "./authenticator.js";
import { describeNeed, type Need } from "./permissions.js";
import type { RpcRule } from "./rpc-permissions.js";

/** What {@link CallGuard} needs of a grpc-js server call. */
export type GuardedCall = Parameters<typeof credentialsOf>[0] & { getPeer(): string };

/** A stream being watched, so a reload can end it. */
interface LiveStream {
  readonly path: string;
  readonly credentials: Credentials;
  identity: Identity;
  /** What the stream's messages were allowed so far, re-checked on reload (only for `end-call` rules). */
  readonly granted: Need[];
  ended: boolean;
  end(error: AuthError): void;
}

/**
 * The decisions behind every guarded call: who is calling (from the tokens
 * file in force), whether they may do what a request needs, and, for
 * streams, screening each message and re-checking open streams when the
 * tokens file is reloaded (a removed token or permission ends the stream
 * with UNAUTHENTICATED or PERMISSION_DENIED). Refusals are logged here, with
 * the peer and the method, never with the token.
 */
export class CallGuard {
  readonly #live = new Set<LiveStream>();
  readonly #onReload = (outcome: ReloadOutcome) => {
    if (outcome.ok) this.#recheck();
  };

  constructor(
    private readonly store: AccessStore,
    private readonly logger: Logger,
  ) {
    store.on("reload", this.#onReload);
  }

  /** The caller's identity, or the AuthError to answer with (already logged). */
  identify(call: GuardedCall, path: string): Identity | AuthError {
    try {
      return authenticate(this.store.table, credentialsOf(call));
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      this.logger.warn({ method: path, peer: call.getPeer(), reason: err.detail ?? err.message }, "unauthenticated call refused");
      return err;
    }
  }

  /** The PERMISSION_DENIED error for the first of `needs` that `identity` lacks (logged), or undefined when all are allowed. */
  check(identity: Identity, needs: readonly Need[], path: string): AuthError | undefined {
    const missing = needs.find((n) => !identity.grants.allows(n));
    if (missing === undefined) return undefined;
    const what = describeNeed(missing);
    this.logger.info({ method: path, identity: identity.name, missing: what }, "call not permitted");
    return new AuthError("permission-denied", `identity ${JSON.stringify(identity.name)} lacks ${what}`);
  }

  /**
   * Watches a streaming call until it ends: re-checked on every reload and,
   * with a `rule` (and a readable side), every incoming message is screened
   * before any handler sees it. grpc-js hands each message to the handler
   * as a `data` event, so screening at `emit` covers whatever listeners the
   * handler registers. A message that is not allowed is answered as the
   * rule says: dropped with the call ended, or replaced by a
   * {@link RejectedRequest} for the handler to answer in its place.
   */
  watch(call: EventEmitter & GuardedCall, path: string, identity: Identity, rule: RpcRule | undefined, end: (error: AuthError) => void): void {
    const stream: LiveStream = {
      path,
      credentials: credentialsOf(call),
      identity,
      granted: [],
      ended: false,
      end: (error) => {
        if (stream.ended) return;
        stream.ended = true;
        this.#live.delete(stream);
        end(error);
      },
    };
    this.#live.add(stream);
    const forget = () => this.#live.delete(stream);
    for (const event of ["finish", "close", "cancelled", "error"]) call.once(event, forget);
    if (rule === undefined) return;

    const emit = call.emit.bind(call) as (event: string | symbol, ...args: unknown[]) => boolean;
    call.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
      if (event !== "data") return emit(event, ...args);
      if (stream.ended) return false;
      const message = args[0];
      if (message instanceof MalformedRequest) return emit(event, message);
      const needs = rule.needs(message);
      const denied = this.check(stream.identity, needs, path);
      if (denied === undefined) {
        if (rule.onDenied === "end-call") stream.granted.push(...needs);
        return emit(event, message);
      }
      if (rule.onDenied === "reject-request") return emit(event, new RejectedRequest(message, denied));
      stream.end(denied);
      return false;
    }) as typeof call.emit;
  }

  /** Stops listening to reloads. */
  close(): void {
    this.store.off("reload", this.#onReload);
  }

  #recheck(): void {
    for (const stream of [...this.#live]) {
      let identity: Identity;
      try {
        identity = authenticate(this.store.table, stream.credentials);
      } catch (err) {
        if (!(err instanceof AuthError)) throw err;
        this.logger.info({ method: stream.path, identity: stream.identity.name }, "stream ended: its credentials were revoked");
        stream.end(new AuthError("unauthenticated", "the credentials of this stream were revoked"));
        continue;
      }
      stream.identity = identity;
      const denied = this.check(identity, stream.granted, stream.path);
      if (denied !== undefined) stream.end(denied);
    }
  }
}
