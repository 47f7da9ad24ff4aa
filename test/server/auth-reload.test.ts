import { once } from "node:events";
import { create } from "@bufbuild/protobuf";
import { type ClientDuplexStream, status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type PublishStreamRequest,
  PublishStreamRequestSchema,
  type PublishStreamResponse,
} from "../../gen/sluice/v1/broker_pb.js";
import type { ReloadOutcome } from "../../src/server/auth/access-store.js";
import { AdminService, BrokerService, call, expectCode } from "../helpers/grpc-clients.js";
import { type IdentitySpec, SecuredBroker } from "../helpers/secured-broker.js";
import { TestSubscriber } from "../helpers/test-subscriber.js";

const enc = new TextEncoder();
const ROOT = { name: "root", token: "root-token-0123456789", publish: ["*"], subscribe: ["*"], admin: ["*"] };
const WRITER = { name: "writer", token: "writer-token-0123456789", publish: ["orders"], subscribe: ["orders"] };

let b: SecuredBroker;
beforeEach(async () => {
  b = await SecuredBroker.start({ identities: [ROOT, WRITER] });
  await call(b.connect({ token: ROOT.token }).admin, AdminService.method.createTopic, { name: "orders" });
});
afterEach(async () => {
  await b.stop();
});

const publishAs = (token: string) =>
  call(b.connect({ token }).broker, BrokerService.method.publish, { topic: "orders", messages: [{ payload: enc.encode("x") }] });

async function reloadWith(identities: IdentitySpec[] | string): Promise<ReloadOutcome> {
  await b.rewrite(identities);
  return b.store!.reload();
}

describe("reloading the tokens file", () => {
  it("stops a removed token from working", async () => {
    await publishAs(WRITER.token);
    expect(await reloadWith([ROOT])).toEqual({ ok: true, identities: 1 });
    const err = await expectCode(publishAs(WRITER.token), status.UNAUTHENTICATED);
    expect(err.details).toBe("invalid bearer token");
    await publishAs(ROOT.token);
  });

  it("ends an open subscription whose token was removed with UNAUTHENTICATED", async () => {
    const sub = new TestSubscriber(b.connect({ token: WRITER.token }), { topic: "orders", group: "g" });
    await sub.opened();
    await reloadWith([ROOT]);
    await sub.closed();
    expect(sub.error).toMatchObject({ code: status.UNAUTHENTICATED, details: "the credentials of this stream were revoked" });
  });

  it("ends an open subscription whose permission was withdrawn with PERMISSION_DENIED, and leaves others open", async () => {
    const writerSub = new TestSubscriber(b.connect({ token: WRITER.token }), { topic: "orders", group: "g" });
    const rootSub = new TestSubscriber(b.connect({ token: ROOT.token }), { topic: "orders", group: "h" });
    await Promise.all([writerSub.opened(), rootSub.opened()]);
    await reloadWith([ROOT, { ...WRITER, subscribe: [] }]);
    await writerSub.closed();
    expect(writerSub.error).toMatchObject({
      code: status.PERMISSION_DENIED,
      details: 'identity "writer" lacks subscribe on topic "orders" with group "g"',
    });
    await publishAs(ROOT.token);
    expect(await rootSub.take(1)).toHaveLength(1);
    rootSub.stream.cancel();
  });

  it("applies withdrawn permissions to the next requests of an open PublishStream", async () => {
    const writer = b.connect({ token: WRITER.token });
    const stream = (writer.broker as unknown as Record<string, () => ClientDuplexStream<PublishStreamRequest, PublishStreamResponse>>)
      .publishStream!.call(writer.broker);
    const send = (requestId: bigint) => {
      stream.write(create(PublishStreamRequestSchema, { requestId, topic: "orders", messages: [{ payload: enc.encode("x") }] }));
      return once(stream, "data").then(([r]) => r as PublishStreamResponse);
    };
    expect((await send(1n)).error).toBeUndefined();
    await reloadWith([ROOT, { ...WRITER, publish: [] }]);
    expect((await send(2n)).error).toMatchObject({ code: status.PERMISSION_DENIED, message: 'identity "writer" lacks publish on topic "orders"' });
    // Wait for the broker to end the stream: one still open when the broker
    // stops is ended with UNAVAILABLE.
    const ended = once(stream, "status");
    stream.end();
    expect((await ended)[0]).toMatchObject({ code: status.OK });
  });

  it("keeps the previous file in force when the new one is invalid", async () => {
    const outcome = await reloadWith("identities:\n  - name: writer\n    token: plain-text\n");
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error.message).toBe(
      `tokens file ${b.tokensFile}: identities[0] (writer): unknown key \`token\`; store the token's SHA-256 as \`token_sha256\` ` +
        "(see docs/security.md); allowed: name, token_sha256, cert_subject, publish, subscribe, admin",
    );
    await publishAs(WRITER.token);
  });

  it("picks up an edit through the file watch", async () => {
    b.store!.watch();
    const fresh = { name: "fresh", token: "fresh-token-0123456789", publish: ["orders"] };
    await expectCode(publishAs(fresh.token), status.UNAUTHENTICATED);
    const reloaded = once(b.store!, "reload");
    await b.rewrite([ROOT, WRITER, fresh]);
    expect(await reloaded).toEqual([{ ok: true, identities: 3 }]);
    await publishAs(fresh.token);
  });
});
