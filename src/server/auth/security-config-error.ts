/**
 * A TLS or tokens-file setting a person must fix: unreadable file, bad PEM,
 * key not matching the certificate, invalid tokens file. The message names
 * the file and, for tokens files, the entry. At start it stops the broker;
 * on a tokens-file reload it is logged and the previous file stays in force.
 */
export class SecurityConfigError extends Error {
  override readonly name = "SecurityConfigError";
}
