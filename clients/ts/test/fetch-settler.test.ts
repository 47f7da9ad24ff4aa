import { create } from "@bufbuild/protobuf";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { Code } from "../src/code.js";
import { FetchSettler, type SettleCalls } from "../src/fetch-settler.js";
import {
  DeliverySchema,
  type AckRequest,
  type ExtendDeadlineRequest,
  type NackRequest,
} from "../src/gen/sluice/v1/broker_pb.js";
import type { Logger } from "../src/logger.js";
import { ReceivedMessage } from "../src/received-message.js";
import { SluiceError } from "../src/sluice-error.js";
import { nextTurn } from "./helpers/fake-stream.js";

interface Call {
  verb: keyof SettleCalls;
  offsets: number[];
  ms: number | "unset";
  answer(): void;
  fail(error: SluiceError): void;
}

/** SettleCalls that record each call and let the test answer it. */
function fakeCalls() {
  const calls: Call[] = [];
  const record =
    (verb: keyof SettleCalls) =>
    (r: AckRequest | NackRequest | ExtendDeadlineRequest): Promise<unknown> =>
      new Promise<unknown>((resolve, reject) => {
        expect([r.topic, r.group]).toEqual(["t", "g"]);
        const d = "delay" in r ? r.delay : "deadline" in r ? r.deadline : undefined;
        calls.push({
          verb,
          offsets: r.positions.map((p) => Number(p.offset)),
          ms: d ? durationMs(d) : "unset",
          answer: () => resolve({}),
          fail: reject,
        });
      });
  const settleCalls: SettleCalls = { ack: record("ack"), nack: record("nack"), extendDeadline: record("extendDeadline") };
  return { calls, settleCalls };
}

function messages(settler: FetchSettler, n: number): ReceivedMessage[] {
  return Array.from(
    { length: n },
    (_, i) => new ReceivedMessage(create(DeliverySchema, { attempt: 1, message: { topic: "t", partition: 0, offset: BigInt(i) } }), 0, settler),
  );
}

const warnings: string[] = [];
const logger: Logger = { debug() {}, info() {}, warn: (_c, m) => void warnings.push(m), error() {} };

describe("FetchSettler", () => {
  it("sends the acks of one event-loop turn as one Ack call and resolves them when it answers", async () => {
    const { calls, settleCalls } = fakeCalls();
    const settler = new FetchSettler("t", "g", settleCalls, logger);
    const ms = messages(settler, 3);
    const acked = Promise.all(ms.map((m) => m.ack()));
    expect(calls).toHaveLength(0);
    await nextTurn();
    expect(calls.map((c) => [c.verb, c.offsets])).toEqual([["ack", [0, 1, 2]]]);
    calls[0]!.answer();
    await acked;
  });

  it("groups nacks by delay and extensions by deadline, one call each", async () => {
    const { calls, settleCalls } = fakeCalls();
    const settler = new FetchSettler("t", "g", settleCalls, logger);
    const [a, b, c, d] = messages(settler, 4);
    void a!.nack();
    void b!.nack(500);
    void c!.extend(20_000);
    void d!.extend(20_000);
    await nextTurn();
    expect(calls.map((x) => [x.verb, x.offsets, x.ms])).toEqual([
      ["extendDeadline", [2, 3], 20_000],
      ["nack", [0], "unset"],
      ["nack", [1], 500],
    ]);
  });

  it("rejects the verbs of a failed call with its SluiceError, and logs the failure", async () => {
    const { calls, settleCalls } = fakeCalls();
    const settler = new FetchSettler("t", "g", settleCalls, logger);
    const [a] = messages(settler, 1);
    const acked = a!.ack();
    await nextTurn();
    calls[0]!.fail(new SluiceError(Code.NotFound, "group g does not exist"));
    await expect(acked).rejects.toMatchObject({ code: Code.NotFound });
    expect(warnings).toContain("sluice fetched-message verb failed");
  });

  it("counts only a message's first ack or nack; later calls return its promise", async () => {
    const { calls, settleCalls } = fakeCalls();
    const settler = new FetchSettler("t", "g", settleCalls, logger);
    const [a] = messages(settler, 1);
    const nacked = a!.nack();
    expect(a!.ack()).toBe(nacked);
    expect(a!.settled).toBe(true);
    await a!.extend(5000); // ignored once settled
    await nextTurn();
    expect(calls.map((c) => c.verb)).toEqual(["nack"]);
  });

  it("idle() sends what is recorded at once and resolves when every call has answered", async () => {
    const { calls, settleCalls } = fakeCalls();
    const settler = new FetchSettler("t", "g", settleCalls, logger);
    const [a, b] = messages(settler, 2);
    void a!.ack();
    void b!.nack(0);
    let idle = false;
    const waiting = settler.idle().then(() => (idle = true));
    expect(calls.map((c) => c.verb)).toEqual(["ack", "nack"]);
    calls[0]!.answer();
    await nextTurn();
    expect(idle).toBe(false);
    calls[1]!.fail(new SluiceError(Code.Unavailable, "down"));
    await waiting;
    await nextTurn();
    expect(calls).toHaveLength(2);
  });
});
