import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { credentials, status } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BrokerProcess, cleanupBrokerProcesses, runBroker } from "../helpers/broker-process.js";
import { generateCerts, type TestCerts } from "../helpers/certs.js";
import { AdminService, BrokerService, call, type Clients, connect, expectCode } from "../helpers/grpc-clients.js";
import { tokensFileText } from "../helpers/secured-broker.js";

const enc = new TextEncoder();
const ROOT = { name: "root", token: "root-token-0123456789", publish: ["*"], subscribe: ["*"], admin: ["*"] };
const WRITER = { name: "writer", token: "writer-token-0123456789", publish: ["orders"] };

let certs: TestCerts;
let dir: string;
// Not tempDir(): cleanupBrokerProcesses removes those after each test, and the certificates serve them all.
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "sluice-sec-"));
  certs = await generateCerts(path.join(dir, "certs"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
const open: Clients[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await cleanupBrokerProcesses();
});

/** The next log line of `p` with message `msg` (read from its stdout as it comes). */
function nextLog(p: BrokerProcess, msg: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const lines = createInterface({ input: p.child.stdout! });
    lines.on("line", (line) => {
      if (!line.includes(msg)) return;
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry["msg"] !== msg) return;
      lines.close();
      resolve(entry);
    });
  });
}

const tlsArgs = () => ["--tls-cert", certs.server.certFile, "--tls-key", certs.server.keyFile];
const tlsClients = (p: BrokerProcess, token?: string) => {
  const c = connect(p.address, { credentials: credentials.createSsl(Buffer.from(certs.ca.cert)), token });
  open.push(c);
  return c;
};

describe("the broker process", () => {
  it("lists the security flags and their environment variables in --help", async () => {
    const run = await runBroker(["--help"]);
    for (const text of ["--tls-cert", "SLUICE_TLS_CERT", "--tls-key", "--tls-client-ca", "--tokens-file", "SLUICE_TOKENS_FILE"]) {
      expect(run.stdout).toContain(text);
    }
    expect(run.stdout).toContain("--auth-open-health");
    expect(run.stdout).toContain("--auth-open-reflection");
  });

  it("warns at start that plaintext without tokens is for local development only", async () => {
    const p = await BrokerProcess.start();
    expect(p.logs.find((l) => String(l["msg"]).startsWith("serving plaintext gRPC without authentication"))).toMatchObject({ level: 40 });
  });

  it.each([
    ["the flag", ["--tls-cert"], {}],
    ["the environment variable", [], { SLUICE_TLS_CERT: "cert.pem" }],
  ])("refuses a certificate without a key, given by %s", async (_, flag, env) => {
    const run = await runBroker(flag.length === 0 ? [] : [...flag, certs.server.certFile], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--tls-cert and --tls-key (SLUICE_TLS_CERT, SLUICE_TLS_KEY) go together");
  });

  it("refuses to start with a key that does not belong to the certificate", async () => {
    const run = await runBroker(["--data-dir", path.join(dir, "d1"), "--tls-cert", certs.server.certFile, "--tls-key", certs.client.keyFile]);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/not starting: --tls-cert .* and --tls-key .* cannot be used together/);
  });

  it("refuses to start with an invalid tokens file, naming the entry", async () => {
    const file = path.join(dir, "bad-tokens.yaml");
    await writeFile(file, "identities:\n  - name: ops\n    token: hunter2\n");
    const run = await runBroker(["--data-dir", path.join(dir, "d2"), "--tokens-file", file]);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain(`not starting: tokens file ${file}: identities[0] (ops): unknown key \`token\``);
  });

  it("serves TLS with a tokens file, and says so at start", async () => {
    const file = path.join(dir, "tokens-env.yaml");
    await writeFile(file, tokensFileText([ROOT]));
    const p = await BrokerProcess.start({ args: [...tlsArgs(), "--tokens-file", file] });
    expect(p.logs.find((l) => l["msg"] === "serving TLS with per-topic permissions from the tokens file (bearer tokens)")).toMatchObject({
      level: 30,
    });
    await call(tlsClients(p, ROOT.token).admin, AdminService.method.createTopic, { name: "orders" });
    await expectCode(call(tlsClients(p).admin, AdminService.method.listTopics, {}), status.UNAUTHENTICATED);
  });

  it("reloads the tokens file on SIGHUP: a removed token stops working", async () => {
    const file = path.join(dir, "tokens-hup.yaml");
    await writeFile(file, tokensFileText([ROOT, WRITER]));
    const p = await BrokerProcess.start({ args: [...tlsArgs(), "--tokens-file", file] });
    await call(tlsClients(p, ROOT.token).admin, AdminService.method.createTopic, { name: "orders" });
    const publish = (token: string) =>
      call(tlsClients(p, token).broker, BrokerService.method.publish, { topic: "orders", messages: [{ payload: enc.encode("x") }] });
    await publish(WRITER.token);

    await writeFile(file, tokensFileText([ROOT]));
    const reloaded = nextLog(p, "tokens file reloaded");
    p.kill("SIGHUP");
    expect(await reloaded).toMatchObject({ identities: 1 });
    await expectCode(publish(WRITER.token), status.UNAUTHENTICATED);
    await publish(ROOT.token);
  });
});
