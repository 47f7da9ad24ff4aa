import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createSecureContext } from "node:tls";
import { ServerCredentials } from "@grpc/grpc-js";
import { SecurityConfigError } from "./security-config-error.js";

/** PEM files of the gRPC port's TLS. */
export interface TlsFiles {
  /** The server certificate chain, leaf first. */
  readonly certFile: string;
  /** The private key of the leaf certificate. */
  readonly keyFile: string;
  /** CA certificates that sign client certificates; when set, every client must present one (mutual TLS). */
  readonly clientCaFile?: string;
}

/** The server side of TLS, ready for `bindAsync`. */
export interface ServerTls {
  readonly credentials: ServerCredentials;
  /** Whether clients must present a certificate signed by the client CA. */
  readonly mutual: boolean;
  /** The server certificate's subject and expiry, for the start-up log. */
  readonly subject: string;
  readonly validTo: string;
}

/**
 * Reads and checks the TLS files: PEM that parses, a key that belongs to the
 * certificate, a client CA that is a certificate. Checked here, not at the
 * first handshake, so a mistake stops the broker at start with the file named.
 * @throws SecurityConfigError
 */
export async function loadServerTls(files: TlsFiles): Promise<ServerTls> {
  const cert = await read(files.certFile, "--tls-cert");
  const key = await read(files.keyFile, "--tls-key");
  const ca = files.clientCaFile === undefined ? undefined : await read(files.clientCaFile, "--tls-client-ca");
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    throw new SecurityConfigError(`--tls-cert ${files.certFile} holds no PEM certificate: ${(err as Error).message}`);
  }
  if (ca !== undefined) {
    try {
      new X509Certificate(ca);
    } catch (err) {
      throw new SecurityConfigError(`--tls-client-ca ${files.clientCaFile} holds no PEM certificate: ${(err as Error).message}`);
    }
  }
  try {
    // The checks Node makes when serving: key format, and the key matching the certificate.
    createSecureContext({ cert, key, ca });
  } catch (err) {
    throw new SecurityConfigError(
      `--tls-cert ${files.certFile} and --tls-key ${files.keyFile} cannot be used together: ${(err as Error).message}`,
    );
  }
  return {
    credentials: ServerCredentials.createSsl(ca ?? null, [{ cert_chain: cert, private_key: key }], ca !== undefined),
    mutual: ca !== undefined,
    subject: leaf.subject.replaceAll("\n", ", "),
    validTo: leaf.validTo,
  };
}

async function read(file: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new SecurityConfigError(`cannot read ${flag} ${file}: ${(err as Error).message}`);
  }
}
