import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { credentials, status } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SecurityConfigError } from "../../src/server/auth/security-config-error.js";
import { loadServerTls } from "../../src/server/auth/tls-credentials.js";
import { type CertPair, generateCerts, type TestCerts } from "../helpers/certs.js";
import { AdminService, BrokerService, call, type Clients, expectCode } from "../helpers/grpc-clients.js";
import { healthCheck } from "../helpers/open-services.js";
import { SecuredBroker, type SecuredBrokerOptions } from "../helpers/secured-broker.js";

const enc = new TextEncoder();
let certs: TestCerts;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "sluice-tls-"));
  certs = await generateCerts(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let b: SecuredBroker | undefined;
afterEach(async () => {
  await b?.stop();
  b = undefined;
});

async function start(mutual: boolean, options: SecuredBrokerOptions = {}): Promise<SecuredBroker> {
  const tls = await loadServerTls({
    certFile: certs.server.certFile,
    keyFile: certs.server.keyFile,
    clientCaFile: mutual ? certs.ca.certFile : undefined,
  });
  b = await SecuredBroker.start({ ...options, credentials: tls.credentials });
  return b;
}

/** A TLS channel trusting `ca` (the test CA by default), presenting `client` if given. */
function tls(client?: CertPair, ca = certs.ca.cert) {
  return client === undefined
    ? credentials.createSsl(Buffer.from(ca))
    : credentials.createSsl(Buffer.from(ca), Buffer.from(client.key), Buffer.from(client.cert));
}

const createTopic = (c: Clients, name: string) => call(c.admin, AdminService.method.createTopic, { name });
const publish = (c: Clients, topic: string) =>
  call(c.broker, BrokerService.method.publish, { topic, messages: [{ payload: enc.encode("x") }] });

describe("TLS", () => {
  it("serves a client that trusts the broker's CA", async () => {
    const broker = await start(false);
    const c = broker.connect({ credentials: tls() });
    await createTopic(c, "orders");
    expect((await publish(c, "orders")).results).toHaveLength(1);
    expect(await healthCheck(broker.address, { credentials: tls() })).toBe("SERVING");
  });

  it("refuses a plaintext client", async () => {
    const broker = await start(false);
    await expectCode(createTopic(broker.connect(), "orders"), status.UNAVAILABLE);
    expect(broker.inner.broker.topics.size).toBe(0);
  });

  it("is refused by a client that does not trust the broker's certificate", async () => {
    const broker = await start(false);
    await expectCode(createTopic(broker.connect({ credentials: tls(undefined, certs.otherCa.cert) }), "orders"), status.UNAVAILABLE);
  });
});

describe("mutual TLS", () => {
  it("serves a client with a certificate the client CA signed", async () => {
    const broker = await start(true);
    await createTopic(broker.connect({ credentials: tls(certs.client) }), "orders");
    expect(broker.inner.broker.topics.has("orders")).toBe(true);
  });

  it("refuses a client without a certificate", async () => {
    const broker = await start(true);
    await expectCode(createTopic(broker.connect({ credentials: tls() }), "orders"), status.UNAVAILABLE);
    expect(broker.inner.broker.topics.size).toBe(0);
  });

  it("refuses a client whose certificate another CA signed", async () => {
    const broker = await start(true);
    await expectCode(createTopic(broker.connect({ credentials: tls(certs.otherClient) }), "orders"), status.UNAVAILABLE);
    expect(broker.inner.broker.topics.size).toBe(0);
  });
});

describe("mutual TLS with a tokens file", () => {
  const ROOT = { name: "root", token: "root-token-0123456789", publish: ["*"], subscribe: ["*"], admin: ["*"] };
  const ANALYTICS = { name: "analytics", cert_subject: { CN: "analytics", O: "Sluice Tests" }, publish: ["metrics.*"] };

  it("takes the identity from the certificate's subject", async () => {
    const broker = await start(true, { identities: [ROOT, ANALYTICS] });
    await createTopic(broker.connect({ credentials: tls(certs.client), token: ROOT.token }), "metrics.cpu");
    const analytics = broker.connect({ credentials: tls(certs.client) });
    expect((await publish(analytics, "metrics.cpu")).results).toHaveLength(1);
    const err = await expectCode(createTopic(analytics, "metrics.mem"), status.PERMISSION_DENIED);
    expect(err.details).toBe('identity "analytics" lacks admin on topic "metrics.mem"');
  });

  it("refuses a certificate whose subject no identity has, unless the call carries a token", async () => {
    const broker = await start(true, { identities: [ROOT, ANALYTICS] });
    const err = await expectCode(createTopic(broker.connect({ credentials: tls(certs.stranger) }), "t"), status.UNAUTHENTICATED);
    expect(err.details).toBe("the client certificate maps to no identity; send `authorization: Bearer <token>`");
    await createTopic(broker.connect({ credentials: tls(certs.stranger), token: ROOT.token }), "t");
  });
});

describe("loading TLS files", () => {
  it("refuses a key that does not belong to the certificate", async () => {
    const load = loadServerTls({ certFile: certs.server.certFile, keyFile: certs.client.keyFile });
    await expect(load).rejects.toThrow(SecurityConfigError);
    await expect(load).rejects.toThrow(/^--tls-cert .* and --tls-key .* cannot be used together: .*key values mismatch/);
  });

  it("refuses a missing file, naming the flag", async () => {
    const missing = path.join(dir, "missing.pem");
    await expect(loadServerTls({ certFile: missing, keyFile: certs.server.keyFile })).rejects.toThrow(
      `cannot read --tls-cert ${missing}: ENOENT`,
    );
  });

  it("describes the certificate for the start-up log", async () => {
    const loaded = await loadServerTls({ certFile: certs.server.certFile, keyFile: certs.server.keyFile, clientCaFile: certs.ca.certFile });
    expect(loaded).toMatchObject({ mutual: true, subject: "CN=localhost" });
  });
});
