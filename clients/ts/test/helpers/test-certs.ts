import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));

/** A certificate and key, as PEM text and files. */
export interface CertPair {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** The certificates the broker's own TLS tests use (see test/helpers/certs.ts at the repository root). */
export interface TestCerts {
  readonly ca: { readonly cert: string; readonly certFile: string };
  readonly server: CertPair;
  /** CN=analytics, O=Sluice Tests, signed by `ca`. */
  readonly client: CertPair;
  readonly otherCa: { readonly cert: string; readonly certFile: string };
  /** CN=analytics, signed by `otherCa`. */
  readonly otherClient: CertPair;
}

/**
 * Makes fresh certificates in `dir` with the repository's test helper, run as
 * a command: this package's tests do not import the broker's sources.
 */
export async function generateCerts(dir: string): Promise<TestCerts> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "test/helpers/certs.ts", dir], { cwd: repoRoot });
  return JSON.parse(stdout) as TestCerts;
}
