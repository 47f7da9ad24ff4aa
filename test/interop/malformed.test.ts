import type { DescService } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/sluice/v1/admin_pb.js";
import { BrokerService } from "../../gen/sluice/v1/broker_pb.js";
import { BrokerProcess } from "./support/broker-process.js";
import { rawServiceDefinition } from "./support/grpc-bridge.js";
import { TsClient, withTimeout } from "./support/sluice-ts.js";

// Bytes that are not a valid protobuf encoding of any message.
const MALFORMED: Record<string, Buffer> = {
  "a length-delimited field cut short": Buffer.from([0x0a, 0x05, 0x61]),
  "an invalid wire type": Buffer.from([0x0f]),
  "a varint of more than ten bytes": Buffer.from([0x08, ...Array<number>(11).fill(0xff), 0x01]),
  "a tag with field number zero": Buffer.from([0x00, 0x00]),
};
const DEADLINE_MS = 5_000;

type RawUnary = (req: Buffer, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null) => void) => void;
type RawStream = (md: grpc.Metadata, opts: grpc.CallOptions) => grpc.ClientDuplexStream<Buffer, Buffer>;

let broker: BrokerProcess;
const clients: grpc.Client[] = [];

beforeAll(async () => {
  broker = await BrokerProcess.start();
  const ts = new TsClient(broker.address);
  await ts.createTopic("malformed-after-open");
  ts.close();
});

afterAll(async () => {
  for (const c of clients) c.close();
  await broker?.stop();
});

function rawClient(service: DescService): Record<string, RawUnary | RawStream> {
  const Ctor = grpc.makeGenericClientConstructor(rawServiceDefinition(service), service.typeName);
  const client = new Ctor(broker.address, grpc.credentials.createInsecure());
  clients.push(client);
  const methods = client as unknown as Record<string, (...args: never[]) => unknown>;
  return Object.fromEntries(service.methods.map((m) => [m.localName, methods[m.localName]!.bind(client)])) as Record<
    string,
    RawUnary | RawStream
  >;
}

function deadline(): grpc.CallOptions {
  return { deadline: Date.now() + DEADLINE_MS };
}

/** Sends `bytes` as the request of a unary method; resolves with the status code. */
function callUnary(method: RawUnary, bytes: Buffer): Promise<number> {
  return new Promise((resolve) => method(bytes, new grpc.Metadata(), deadline(), (err) => resolve(err ? err.code : grpc.status.OK)));
}

/**
 * Sends each of `before` (valid requests) and awaits a response to it, then
 * sends `bytes`, without half-closing; resolves with the final status code
 * and the number of responses received.
 */
function callStream(method: RawStream, before: Buffer[], bytes: Buffer): Promise<{ code: number; responses: number }> {
  return new Promise((resolve) => {
    const call = method(new grpc.Metadata(), deadline());
    let responses = 0;
    const pending = [...before];
    const sendNext = () => call.write(pending.length > 0 ? pending.shift()! : bytes);
    call.on("data", () => {
      responses++;
      if (responses <= before.length) sendNext();
    });
    call.on("error", () => {});
    call.on("status", (s: grpc.StatusObject) => resolve({ code: s.code, responses }));
    sendNext();
  });
}

/** Health/Check with an empty request; the broker is serving if it answers SERVING (field 1 = 1). */
async function serving(): Promise<boolean> {
  const Ctor = grpc.makeGenericClientConstructor(
    {
      check: {
        path: "/grpc.health.v1.Health/Check",
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    "grpc.health.v1.Health",
  );
  const client = new Ctor(broker.address, grpc.credentials.createInsecure());
  const check = (client as unknown as Record<string, (r: Buffer, o: grpc.CallOptions, cb: (e: Error | null, r?: Buffer) => void) => void>)
    .check!.bind(client);
  try {
    const res = await new Promise<Buffer>((resolve, reject) =>
      check(
        Buffer.alloc(0),
        deadline(),
        (err, r) => (err ? reject(err) : resolve(r!)),
      ),
    );
    return res.equals(Buffer.from([0x08, 0x01]));
  } finally {
    client.close();
  }
}

const cases = [BrokerService, AdminService].flatMap((service) =>
  service.methods.flatMap((method) =>
    Object.entries(MALFORMED).map(([what, bytes]) => ({ service, method, what, bytes })),
  ),
);

describe("malformed protobuf bytes", () => {
  it.each(cases.map((c) => [`${c.service.name}.${c.method.name}`, c.what, c] as const))(
    "%s answers %s with INVALID_ARGUMENT and the broker keeps serving",
    async (_name, _what, { service, method, bytes }) => {
      const stub = rawClient(service)[method.localName]!;
      const code =
        method.methodKind === "unary"
          ? await callUnary(stub as RawUnary, bytes)
          : (await callStream(stub as RawStream, [], bytes)).code;
      expect(grpc.status[code]).toBe("INVALID_ARGUMENT");
      expect(await serving()).toBe(true);
    },
  );

  it("Subscribe answers a malformed message after a valid open with INVALID_ARGUMENT", async () => {
    // SubscribeRequest{open: {topic: "malformed-after-open", group: "g"}}
    const open = Buffer.concat([
      Buffer.from([0x0a, 2 + 20 + 2 + 1, 0x0a, 20]),
      Buffer.from("malformed-after-open"),
      Buffer.from([0x12, 1]),
      Buffer.from("g"),
    ]);
    const stub = rawClient(BrokerService)[BrokerService.method.subscribe.localName] as RawStream;
    const { code, responses } = await callStream(stub, [open], MALFORMED["a length-delimited field cut short"]!);
    expect(responses).toBe(1); // `subscribed`, then the error
    expect(grpc.status[code]).toBe("INVALID_ARGUMENT");
  });

  it("PublishStream answers a malformed request after a valid one with INVALID_ARGUMENT", async () => {
    // PublishStreamRequest{request_id: 1, topic: "malformed-after-open", messages: [{payload: "x"}]}
    const valid = Buffer.concat([
      Buffer.from([0x08, 0x01, 0x12, 20]),
      Buffer.from("malformed-after-open"),
      Buffer.from([0x1a, 3, 0x12, 1, 0x78]),
    ]);
    const stub = rawClient(BrokerService)[BrokerService.method.publishStream.localName] as RawStream;
    const { code, responses } = await callStream(stub, [valid], MALFORMED["an invalid wire type"]!);
    expect(responses).toBe(1);
    expect(grpc.status[code]).toBe("INVALID_ARGUMENT");
  });

  it("after all of them the broker still publishes and is alive", async () => {
    const ts = new TsClient(broker.address);
    try {
      await ts.createTopic("after-malformed");
      const results = await withTimeout(ts.publish("after-malformed", [{ payload: "still here" }]), DEADLINE_MS, "publish");
      expect(results.map((r) => r.offset)).toEqual([0n]);
    } finally {
      ts.close();
    }
    expect(broker.alive).toBe(true);
  });
});
