import type { ServerCredentials } from "@grpc/grpc-js";
import type { Logger } from "../../broker/logger.js";
import { AccessStore } from "./access-store.js";
import type { AuthorizeOptions } from "./authorize.js";
import { type SecurityNotice, securityNotice } from "./security-notice.js";
import { loadServerTls } from "./tls-credentials.js";

/** The security settings of the gRPC port (see src/config.ts for the flags). */
export interface EdgeSecuritySettings {
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsClientCa?: string;
  readonly tokensFile?: string;
  readonly openHealth: boolean;
  readonly openReflection: boolean;
}

/** TLS credentials and access control, loaded and checked, for {@link startGrpcServer}. */
export interface EdgeSecurity {
  /** TLS; undefined for plaintext. */
  readonly credentials: ServerCredentials | undefined;
  /** Access control; undefined when there is no tokens file (every call allowed). */
  readonly auth: AuthorizeOptions | undefined;
  /** What to log at start about how the port is protected. */
  readonly notice: SecurityNotice;
  /** Re-reads the tokens file (SIGHUP); resolves at once without one. */
  reload(): Promise<void>;
  /** Stops watching the tokens file. */
  close(): void;
}

/**
 * Loads the TLS files and the tokens file and starts watching the latter.
 * @throws SecurityConfigError for any file that is missing or invalid, so
 *   the broker refuses to start rather than serve less protected than asked.
 */
export async function openEdgeSecurity(settings: EdgeSecuritySettings, logger: Logger): Promise<EdgeSecurity> {
  const tls =
    settings.tlsCert === undefined || settings.tlsKey === undefined
      ? undefined
      : await loadServerTls({ certFile: settings.tlsCert, keyFile: settings.tlsKey, clientCaFile: settings.tlsClientCa });
  if (tls !== undefined) logger.info({ subject: tls.subject, validTo: tls.validTo, mutual: tls.mutual }, "TLS certificate loaded");
  const store = settings.tokensFile === undefined ? undefined : await AccessStore.open(settings.tokensFile, logger.child({ component: "tokens" }));
  if (store !== undefined) {
    logger.info({ file: store.file, identities: store.table.identities.length }, "tokens file loaded");
    store.watch();
  }
  return {
    credentials: tls?.credentials,
    auth: store === undefined ? undefined : { store, openHealth: settings.openHealth, openReflection: settings.openReflection },
    notice: securityNotice({ tls: tls !== undefined, mutualTls: tls?.mutual ?? false, tokens: store !== undefined }),
    async reload() {
      await store?.reload();
    },
    close() {
      store?.close();
    },
  };
}
