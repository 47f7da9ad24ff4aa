import { create } from "@bufbuild/protobuf";
import { type ClientDuplexStream, Metadata, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type PublishStreamRequest,
  PublishStreamRequestSchema,
  type PublishStreamResponse,
} from "../../gen/sluice/v1/broker_pb.js";
import { AdminService, BrokerService, call, type Clients, expectCode } from "../helpers/grpc-clients.js";
import { healthCheck, listServices } from "../helpers/open-services.js";
import { probe, SLUICE_METHODS } from "../helpers/rpc-probe.js";
import { SecuredBroker } from "../helpers/secured-broker.js";
import { TestSubscriber } from "../helpers/test-subscriber.js";

const enc = new TextEncoder();
const TOKENS = { root: "root-token-0123456789", writer: "writer-token-0123456789", outsider: "outsider-token-0123456789", idle: "idle-token-0123456789" };
const IDENTITIES = [
  { name: "root", token: TOKENS.root, publish: ["*"], subscribe: ["*"], admin: ["*"] },
  { name: "writer", token: TOKENS.writer, publish: ["orders"], subscribe: [{ topics: ["orders"], groups: ["billing"] }] },
  {
    name: "outsider",
    token: TOKENS.outsider,
    publish: ["outsider.*"],
    subscribe: [{ topics: ["outsider.*"], groups: ["*"] }],
    admin: ["outsider.*"],
  },
  { name: "idle", token: TOKENS.idle },
];

let b: SecuredBroker;
let root: Clients;
beforeAll(async () => {
  b = await SecuredBroker.start({ identities: IDENTITIES });
  root = b.connect({ token: TOKENS.root });
  for (const name of ["orders", "outsider.a", "outsider.b"]) await call(root.admin, AdminService.method.createTopic, { name });
});
afterAll(async () => {
  await b.stop();
});

const TARGET = { topic: "orders", group: "billing" };
const methodNames = SLUICE_METHODS.map((m) => `${m.parent.name}.${m.name}`);

describe("authentication", () => {
  it.each(SLUICE_METHODS.map((m, i) => [methodNames[i], m] as const))("%s answers UNAUTHENTICATED without credentials", async (_, method) => {
    const outcome = await probe(b.connect(), method, TARGET);
    expect(outcome.code).toBe(status.UNAUTHENTICATED);
    expect(outcome.details).toContain("authorization: Bearer");
  });

  it.each(SLUICE_METHODS.map((m, i) => [methodNames[i], m] as const))(
    "%s answers UNAUTHENTICATED to an unknown token, naming no identity",
    async (_, method) => {
      const outcome = await probe(b.connect({ token: "not-a-known-token" }), method, TARGET);
      expect(outcome).toEqual({ code: status.UNAUTHENTICATED, details: "invalid bearer token" });
    },
  );

  it("answers UNAUTHENTICATED to an authorization that is not a bearer token", async () => {
    const md = new Metadata();
    md.set("authorization", `Basic ${Buffer.from(`x:${TOKENS.root}`).toString("base64")}`);
    const err = await expectCode(
      new Promise((resolve, reject) =>
        b.connect().admin.makeUnaryRequest(
          `/${AdminService.typeName}/ListTopics`,
          () => Buffer.alloc(0),
          (x: Buffer) => x,
          {},
          md,
          (e, r) => (e ? reject(e) : resolve(r)),
        ),
      ),
      status.UNAUTHENTICATED,
    );
    expect(err.details).toBe("the `authorization` metadata must be `Bearer <token>`");
  });
});

describe("authorization", () => {
  it.each(SLUICE_METHODS.map((m, i) => [methodNames[i], m] as const))(
    "%s answers PERMISSION_DENIED to an identity without permissions, naming what is missing",
    async (_, method) => {
      const outcome = await probe(b.connect({ token: TOKENS.idle }), method, TARGET);
      expect(outcome.code).toBe(status.PERMISSION_DENIED);
      expect(outcome.details).toMatch(/^identity "idle" lacks (publish|subscribe|admin) on /);
    },
  );

  it.each(SLUICE_METHODS.filter((m) => m.name !== "ListTopics").map((m) => [`${m.parent.name}.${m.name}`, m] as const))(
    "%s answers PERMISSION_DENIED for a topic outside the identity's patterns, naming permission and topic",
    async (_, method) => {
      const outcome = await probe(b.connect({ token: TOKENS.outsider }), method, TARGET);
      expect(outcome.code).toBe(status.PERMISSION_DENIED);
      expect(outcome.details).toMatch(/^identity "outsider" lacks (publish|subscribe|admin) on topic "orders"/);
    },
  );

  it.each(SLUICE_METHODS.map((m, i) => [methodNames[i], m] as const))(
    "%s lets an identity holding the permission through to the broker",
    async (_, method) => {
      const outcome = await probe(root, method, { topic: "probe-only", group: "g" });
      expect([status.UNAUTHENTICATED, status.PERMISSION_DENIED]).not.toContain(outcome.code);
    },
  );

  it("lets an identity publish and consume through its group, and refuses another group", async () => {
    const writer = b.connect({ token: TOKENS.writer });
    await call(writer.broker, BrokerService.method.publish, { topic: "orders", messages: [{ payload: enc.encode("o-1") }] });
    const sub = new TestSubscriber(writer, { topic: "orders", group: "billing" });
    await sub.opened();
    expect((await sub.take(1)).map((d) => Buffer.from(d.message!.payload).toString())).toEqual(["o-1"]);
    sub.stream.cancel();

    const other = new TestSubscriber(writer, { topic: "orders", group: "audit" });
    await expect(other.opened()).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: 'identity "writer" lacks subscribe on topic "orders" with group "audit"',
    });
    const err = await expectCode(call(writer.admin, AdminService.method.getTopic, { name: "orders" }), status.PERMISSION_DENIED);
    expect(err.details).toBe('identity "writer" lacks admin on topic "orders"');
  });

  it("answers a forbidden PublishStream request in its turn and goes on with the others", async () => {
    const writer = b.connect({ token: TOKENS.writer });
    const stream = (writer.broker as unknown as Record<string, () => ClientDuplexStream<PublishStreamRequest, PublishStreamResponse>>)
      .publishStream!.call(writer.broker);
    const responses = new Promise<PublishStreamResponse[]>((resolve, reject) => {
      const out: PublishStreamResponse[] = [];
      stream.on("data", (r: PublishStreamResponse) => out.push(r));
      stream.on("error", reject);
      stream.on("end", () => resolve(out));
    });
    for (const [id, topic] of [[1n, "orders"], [2n, "outsider.a"], [3n, "orders"]] as const) {
      stream.write(create(PublishStreamRequestSchema, { requestId: id, topic, messages: [{ payload: enc.encode("x") }] }));
    }
    stream.end();
    const rs = await responses;
    expect(rs.map((r) => r.requestId)).toEqual([1n, 2n, 3n]);
    expect(rs.map((r) => r.error?.code ?? 0)).toEqual([0, status.PERMISSION_DENIED, 0]);
    expect(rs[1]!.error!.message).toBe('identity "writer" lacks publish on topic "outsider.a"');
    expect(rs[2]!.results).toHaveLength(1);
  });

  it("lists only the topics the identity administers", async () => {
    const outsider = b.connect({ token: TOKENS.outsider });
    const listed = await call(outsider.admin, AdminService.method.listTopics, {});
    expect(listed.topics.map((t) => t.name)).toEqual(["outsider.a", "outsider.b"]);
    const all = await call(root.admin, AdminService.method.listTopics, {});
    expect(all.topics.map((t) => t.name)).toEqual(["orders", "outsider.a", "outsider.b"]);
  });
});

describe("health and reflection", () => {
  it("are open by default", async () => {
    expect(await healthCheck(b.address)).toBe("SERVING");
    expect(await listServices(b.address)).toContain("sluice.v1.BrokerService");
  });

  it("need credentials when configured closed", async () => {
    const closed = await SecuredBroker.start({ identities: IDENTITIES, openHealth: false, openReflection: false });
    try {
      await expectCode(healthCheck(closed.address), status.UNAUTHENTICATED);
      await expectCode(listServices(closed.address), status.UNAUTHENTICATED);
      expect(await healthCheck(closed.address, { token: TOKENS.idle })).toBe("SERVING");
      expect(await listServices(closed.address, { token: TOKENS.idle })).toContain("sluice.v1.AdminService");
    } finally {
      await closed.stop();
    }
  });
});
