import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ServerCredentials } from "@grpc/grpc-js";
import { silentLogger } from "../../src/broker/logger.js";
import { AccessStore } from "../../src/server/auth/access-store.js";
import { hashToken } from "../../src/server/auth/tokens-file.js";
import { type Clients, type ConnectOptions, connect } from "./grpc-clients.js";
import { InProcessBroker } from "./in-process-broker.js";

/** One identity of a test tokens file; `token` is stored hashed. */
export interface IdentitySpec {
  readonly name: string;
  readonly token?: string;
  readonly cert_subject?: Record<string, string>;
  readonly publish?: string[];
  readonly subscribe?: Array<string | { topics: string[]; groups?: string[] }>;
  readonly admin?: string[];
}

/** Tokens-file text (JSON, which the broker reads as YAML) for `identities`. */
export function tokensFileText(identities: readonly IdentitySpec[]): string {
  return JSON.stringify(
    {
      identities: identities.map(({ token, ...rest }) => ({ ...rest, ...(token === undefined ? {} : { token_sha256: hashToken(token) }) })),
    },
    null,
    2,
  );
}

/** What {@link SecuredBroker.start} sets up. */
export interface SecuredBrokerOptions {
  /** Identities of the tokens file; no tokens file (no access control) when absent. */
  readonly identities?: readonly IdentitySpec[];
  readonly openHealth?: boolean;
  readonly openReflection?: boolean;
  readonly credentials?: ServerCredentials;
}

/**
 * An {@link InProcessBroker} with a tokens file in a temp dir and, if
 * given, TLS. `connect` makes clients that {@link stop} closes.
 */
export class SecuredBroker {
  readonly #clients: Clients[] = [];

  private constructor(
    readonly inner: InProcessBroker,
    readonly dir: string,
    readonly tokensFile: string,
    readonly store: AccessStore | undefined,
  ) {}

  static async start(options: SecuredBrokerOptions = {}): Promise<SecuredBroker> {
    const dir = await mkdtemp(path.join(tmpdir(), "sluice-auth-"));
    const tokensFile = path.join(dir, "tokens.yaml");
    let store: AccessStore | undefined;
    if (options.identities !== undefined) {
      await writeFile(tokensFile, tokensFileText(options.identities));
      store = await AccessStore.open(tokensFile, silentLogger);
    }
    const auth =
      store === undefined ? undefined : { store, openHealth: options.openHealth ?? true, openReflection: options.openReflection ?? true };
    const inner = await InProcessBroker.start({}, {}, { credentials: options.credentials, auth });
    return new SecuredBroker(inner, dir, tokensFile, store);
  }

  get address(): string {
    return this.inner.address;
  }

  /** Clients of this broker, closed by {@link stop}. */
  connect(options: ConnectOptions = {}): Clients {
    const clients = connect(this.address, options);
    this.#clients.push(clients);
    return clients;
  }

  /**
   * Replaces the tokens file, atomically (write, then rename, as docs/security.md
   * advises), so a watch never reads it half-written. The store sees it on
   * reload or through its watch.
   */
  async rewrite(content: readonly IdentitySpec[] | string): Promise<void> {
    const text = typeof content === "string" ? content : tokensFileText(content);
    await writeFile(`${this.tokensFile}.next`, text);
    await rename(`${this.tokensFile}.next`, this.tokensFile);
  }

  async stop(): Promise<void> {
    for (const c of this.#clients) c.close();
    this.store?.close();
    await this.inner.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
