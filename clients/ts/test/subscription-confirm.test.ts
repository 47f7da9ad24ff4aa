import { describe, expect, it } from "vitest";
import { Code } from "../src/code.js";
import { SluiceError } from "../src/sluice-error.js";
import { nextTurn } from "./helpers/fake-stream.js";
import { ackIds, confirm, deliver, setup, subscribed, take, verbs } from "./helpers/fake-subscription.js";

/** Whether `promise` has settled by now (after pending microtasks). */
async function state(promise: Promise<unknown>): Promise<"pending" | "resolved" | "rejected"> {
  let result: "pending" | "resolved" | "rejected" = "pending";
  promise.then(
    () => (result = "resolved"),
    () => (result = "rejected"),
  );
  await nextTurn();
  return result;
}

describe("Subscription acks without confirmAcks", () => {
  it("resolve at once and are written without an ack_id", async () => {
    const { transport, sub } = setup();
    const stream = await transport.stream(0);
    subscribed(stream);
    deliver(stream, 0, 2);
    const [a, b] = await take(sub, 2);
    await a!.ack();
    await b!.ack();
    await nextTurn();
    expect(verbs(stream)).toEqual([{ ack: [0, 1] }]);
    expect(ackIds(stream)).toEqual([0n]);
    const closing = sub.close();
    stream.close();
    await closing;
  });
});

describe("Subscription acks with confirmAcks", () => {
  it("coalesced into one request share one ack_id and resolve together once it is confirmed", async () => {
    const { transport, sub } = setup({ confirmAcks: true });
    const stream = await transport.stream(0);
    subscribed(stream);
    deliver(stream, 0, 4);
    const ms = await take(sub, 4);
    const first = Promise.all(ms.slice(0, 3).map((m) => m.ack()));
    await nextTurn();
    expect(verbs(stream)).toEqual([{ ack: [0, 1, 2] }]);
    expect(ackIds(stream)).toEqual([1n]);
    expect(await state(first)).toBe("pending");
    const last = ms[3]!.ack();
    await nextTurn();
    expect(ackIds(stream)).toEqual([1n, 2n]);
    confirm(stream, 1n);
    expect(await state(first)).toBe("resolved");
    expect(await state(last)).toBe("pending");
    confirm(stream, 2n);
    await last;
    // A second ack of the same message is its first ack's promise.
    expect(ms[3]!.ack()).toBe(last);
    const closing = sub.close();
    stream.close();
    await closing;
  });

  it("reject when the stream breaks before the confirmation; acks not yet written go out on the next stream", async () => {
    const { transport, sub } = setup({ confirmAcks: true });
    const stream = await transport.stream(0);
    subscribed(stream);
    deliver(stream, 0, 2);
    const [a, b] = await take(sub, 2);
    const acked = a!.ack();
    await nextTurn();
    const unwritten = b!.ack();
    stream.close(new SluiceError(Code.Unavailable, "broker gone"));
    await expect(acked).rejects.toMatchObject({ code: Code.Unavailable });
    expect(await state(unwritten)).toBe("pending");
    const next = await transport.stream(1);
    subscribed(next);
    await nextTurn();
    expect(verbs(next)).toEqual([{ ack: [1] }]);
    const [id] = ackIds(next);
    expect(id).toBe(2n);
    confirm(next, id!);
    await unwritten;
    const closing = sub.close();
    next.close();
    await closing;
  });

  it("never report an unhandled rejection when the caller ignores the promise", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const { transport, sub } = setup({ confirmAcks: true, maxAttempts: 0 });
      const stream = await transport.stream(0);
      subscribed(stream);
      deliver(stream, 0, 1);
      const [a] = await take(sub, 1);
      void a!.ack();
      await nextTurn();
      stream.close(new SluiceError(Code.PermissionDenied, "no"));
      await sub.closed;
      await nextTurn();
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("close() writes pending acks and waits for their confirmation before half-closing", async () => {
    const { transport, sub } = setup({ confirmAcks: true });
    const stream = await transport.stream(0);
    subscribed(stream);
    deliver(stream, 0, 1);
    const [a] = await take(sub, 1);
    const acked = a!.ack();
    const closing = sub.close();
    await nextTurn();
    expect(verbs(stream)).toEqual([{ ack: [0] }]);
    expect(stream.ended).toBe(false);
    confirm(stream, 1n);
    await acked;
    await nextTurn();
    expect(stream.ended).toBe(true);
    stream.close();
    await closing;
  });

  it("reject at once after the subscription closed, and with the error that ended it", async () => {
    const { transport, sub } = setup({ confirmAcks: true, maxAttempts: 0 });
    const stream = await transport.stream(0);
    subscribed(stream);
    deliver(stream, 0, 2);
    const [a, b] = await take(sub, 2);
    const acked = a!.ack();
    await nextTurn();
    stream.close(new SluiceError(Code.Aborted, "group deleted"));
    await expect(acked).rejects.toMatchObject({ code: Code.Aborted });
    await expect(b!.ack()).rejects.toMatchObject({ code: Code.Aborted });
  });
});
