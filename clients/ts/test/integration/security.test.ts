import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, SluiceClient, SluiceError } from "../../src/index.js";
import { startBroker, type BrokerProcess } from "../helpers/broker-process.js";
import { generateCerts, type TestCerts } from "../helpers/test-certs.js";

const ROOT_TOKEN = "root-token-0123456789";
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

let dir: string;
let certs: TestCerts;
let broker: BrokerProcess;
const clients: SluiceClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-client-tls-"));
  certs = await generateCerts(join(dir, "certs"));
  const tokensFile = join(dir, "tokens.yaml");
  await writeFile(
    tokensFile,
    [
      "identities:",
      "  - name: root",
      `    token_sha256: ${sha256(ROOT_TOKEN)}`,
      '    publish: ["*"]',
      '    subscribe: ["*"]',
      '    admin: ["*"]',
      "  - name: analytics",
      "    cert_subject: { CN: analytics }",
      '    publish: ["metrics.*"]',
      "",
    ].join("\n"),
  );
  broker = await startBroker([
    ["--tls-cert", certs.server.certFile, "--tls-key", certs.server.keyFile],
    ["--tls-client-ca", certs.ca.certFile, "--tokens-file", tokensFile],
  ].flat());
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await broker?.stop();
  await rm(dir, { recursive: true, force: true });
});

function client(options: ConstructorParameters<typeof SluiceClient>[1]): SluiceClient {
  const c = new SluiceClient(broker.address, { deadlineMs: 10_000, ...options });
  clients.push(c);
  return c;
}

describe("a client of a broker with mutual TLS and a tokens file", () => {
  it("publishes and consumes with its certificate and a token", async () => {
    const root = client({ tls: { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key }, token: ROOT_TOKEN });
    await root.createTopic("orders");
    await root.publish("orders", ["first"]);
    for await (const m of root.subscribe("orders", "billing")) {
      expect(m.text()).toBe("first");
      m.ack();
      break;
    }
  });

  it("acts as the identity of its certificate when it sends no token", async () => {
    const analytics = client({ tls: { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key } });
    await client({ tls: { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key }, token: ROOT_TOKEN }).createTopic("metrics.cpu");
    expect(await analytics.publish("metrics.cpu", ["0.5"])).toHaveLength(1);
    await expect(analytics.createTopic("metrics.mem")).rejects.toMatchObject({
      code: Code.PermissionDenied,
      message: 'identity "analytics" lacks admin on topic "metrics.mem"',
    });
  });

  it("fails a publisher with UNAUTHENTICATED for an unknown token, without retrying", async () => {
    const stranger = client({ tls: { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key }, token: "wrong-token" });
    // Reconnection is unbounded by default: the send settles only if UNAUTHENTICATED is not retried.
    const publisher = stranger.publisher("metrics.cpu");
    const sent = publisher.send("x");
    await expect(sent).rejects.toBeInstanceOf(SluiceError);
    await expect(sent).rejects.toMatchObject({ code: Code.Unauthenticated, message: "invalid bearer token" });
    await publisher.close().catch(() => {});
  });

  it("cannot connect without a client certificate", async () => {
    const anonymous = client({ tls: { ca: certs.ca.cert }, token: ROOT_TOKEN });
    await expect(anonymous.listTopics()).rejects.toMatchObject({ code: Code.Unavailable });
  });

  it("cannot connect with a certificate from another CA", async () => {
    const other = client({ tls: { ca: certs.ca.cert, cert: certs.otherClient.cert, key: certs.otherClient.key }, token: ROOT_TOKEN });
    await expect(other.listTopics()).rejects.toMatchObject({ code: Code.Unavailable });
  });
});

describe("client security options", () => {
  it("refuses a certificate without a key", () => {
    expect(() => new SluiceClient("127.0.0.1:1", { tls: { cert: "pem" } })).toThrow(
      new SluiceError(Code.InvalidArgument, "tls.cert and tls.key go together: give both for mutual TLS, or neither"),
    );
  });

  it.each(["", "two words", "line\nbreak"])("refuses the token %j", (token) => {
    expect(() => new SluiceClient("127.0.0.1:1", { token })).toThrow(
      new SluiceError(Code.InvalidArgument, "the token must be non-empty printable ASCII without spaces"),
    );
  });
});
