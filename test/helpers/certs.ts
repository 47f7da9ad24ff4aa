import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A certificate and its key, as PEM text and as files. */
export interface CertPair {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** A CA certificate, as PEM text and as a file. */
export interface CaCert {
  readonly cert: string;
  readonly certFile: string;
}

/** Everything the TLS tests need, freshly made, valid for two days. */
export interface TestCerts {
  readonly dir: string;
  readonly ca: CaCert;
  /** For the broker: CN=localhost, SANs localhost and 127.0.0.1, signed by `ca`. */
  readonly server: CertPair;
  /** A client certificate signed by `ca`: CN=analytics, O=Sluice Tests. */
  readonly client: CertPair;
  /** A client certificate signed by `ca` with a subject no tokens file lists: CN=stranger. */
  readonly stranger: CertPair;
  /** A CA nobody trusts. */
  readonly otherCa: CaCert;
  /** CN=analytics again, but signed by `otherCa`. */
  readonly otherClient: CertPair;
}

// One config for every step, so the result does not depend on the system's openssl.cnf.
const CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
`;

const KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/**
 * Makes a CA, a server certificate, client certificates and a second,
 * untrusted CA in `dir`, with the `openssl` command (Node cannot create
 * X.509 certificates). EC P-256 keys, PKCS#8 PEM: what grpc-js, grpcio and
 * Go all read.
 * @throws Error saying how to install openssl when it is missing.
 */
export async function generateCerts(dir: string): Promise<TestCerts> {
  await mkdir(dir, { recursive: true });
  const config = path.join(dir, "openssl.cnf");
  await writeFile(config, CONFIG);
  const openssl = async (args: string[]) => {
    try {
      await run("openssl", args, { cwd: dir });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === "ENOENT") throw new Error("the TLS tests need the `openssl` command (Debian: apt-get install openssl)");
      throw new Error(`openssl ${args.join(" ")} failed: ${e.stderr ?? e.message}`);
    }
  };
  let serial = 1;
  const makeCa = async (name: string, cn: string): Promise<CaCert> => {
    await openssl(["req", "-x509", "-new", ...KEY, "-keyout", `${name}-key.pem`, "-out", `${name}.pem`, "-days", "2"]
      .concat(["-subj", `/CN=${cn}`, "-config", config, "-extensions", "ca_ext"]));
    return { cert: await readFile(path.join(dir, `${name}.pem`), "utf8"), certFile: path.join(dir, `${name}.pem`) };
  };
  const makeLeaf = async (name: string, subject: string, ca: string, ext: string): Promise<CertPair> => {
    await openssl(["req", "-new", ...KEY, "-keyout", `${name}-key.pem`, "-out", `${name}.csr`, "-subj", subject, "-config", config]);
    await openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}-key.pem`, "-set_serial", String(serial++)]
      .concat(["-out", `${name}.pem`, "-days", "2", "-extfile", config, "-extensions", ext]));
    const certFile = path.join(dir, `${name}.pem`);
    const keyFile = path.join(dir, `${name}-key.pem`);
    return { cert: await readFile(certFile, "utf8"), key: await readFile(keyFile, "utf8"), certFile, keyFile };
  };
  const ca = await makeCa("ca", "Sluice Test CA");
  const otherCa = await makeCa("other-ca", "Sluice Other CA");
  return {
    dir,
    ca,
    server: await makeLeaf("server", "/CN=localhost", "ca", "server_ext"),
    client: await makeLeaf("client", "/O=Sluice Tests/CN=analytics", "ca", "client_ext"),
    stranger: await makeLeaf("stranger", "/CN=stranger", "ca", "client_ext"),
    otherCa,
    otherClient: await makeLeaf("other-client", "/O=Sluice Tests/CN=analytics", "other-ca", "client_ext"),
  };
}

// `node --import tsx test/helpers/certs.ts <dir>`: the Python and Go client
// tests make their certificates here too, and read the JSON it prints.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const dir = process.argv[2];
  if (dir === undefined) {
    process.stderr.write("usage: node --import tsx test/helpers/certs.ts <dir>\n");
    process.exitCode = 2;
  } else {
    process.stdout.write(`${JSON.stringify(await generateCerts(path.resolve(dir)))}\n`);
  }
}
