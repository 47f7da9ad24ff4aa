import { describe, expect, it } from "vitest";
import { Code } from "../src/code.js";
import { SendBatchError } from "../src/send-batch-error.js";
import { SluiceError } from "../src/sluice-error.js";
import { confirm, fakePublisher as setup, payloads, refuse } from "./helpers/fake-publisher.js";
import { nextTurn } from "./helpers/fake-stream.js";

const at = (offset: bigint) => ({ partition: 0, offset, duplicate: false });

/** Resolves with what `promise` settles with, without throwing. */
async function outcome<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

describe("Publisher.sendBatch", () => {
  it("sends a batch as one request and resolves with each message's position, in order", async () => {
    const { transport, publisher } = setup();
    const batch = publisher.sendBatch(["a", "b", { payload: "c", key: "k" }]);
    const stream = await transport.stream(0);
    expect(stream.written.map(payloads)).toEqual([["a", "b", "c"]]);
    expect(stream.written[0]!.messages[2]!.key).toBe("k");
    confirm(stream, 0, 10n);
    expect(await batch).toEqual([at(10n), at(11n), at(12n)]);
  });

  it("sends and settles interleaved send and sendBatch calls in call order", async () => {
    const { transport, publisher } = setup({ lingerMs: 60_000 });
    const settled: string[] = [];
    const calls = [
      publisher.send("a").then(() => settled.push("a")),
      publisher.sendBatch(["b", "c"]).then(() => settled.push("b,c")),
      publisher.send("d").then(() => settled.push("d")),
      publisher.sendBatch(["e"]).then(() => settled.push("e")),
    ];
    void publisher.flush();
    const stream = await transport.stream(0);
    expect(stream.written.map(payloads)).toEqual([["a", "b", "c", "d", "e"]]);
    confirm(stream, 0);
    await Promise.all(calls);
    expect(settled).toEqual(["a", "b,c", "d", "e"]);
  });

  it("sends a batch's last request at the end of the turn, with sends of that turn, without waiting lingerMs", async () => {
    const { transport, publisher } = setup({ lingerMs: 60_000 });
    const single = publisher.send("a");
    const batch = publisher.sendBatch(["b", "c"]);
    const stream = await transport.stream(0);
    await nextTurn();
    expect(stream.written.map(payloads)).toEqual([["a", "b", "c"]]);
    confirm(stream, 0, 5n);
    expect(await single).toEqual(at(5n));
    expect(await batch).toEqual([at(6n), at(7n)]);
    // A send alone still lingers.
    void publisher.send("d");
    await nextTurn();
    expect(stream.written).toHaveLength(1);
  });

  it("splits a batch into requests of at most maxBatchMessages and resolves once the last is confirmed", async () => {
    const { transport, publisher } = setup({ maxBatchMessages: 2 });
    let resolved = false;
    const batch = publisher.sendBatch(["a", "b", "c", "d", "e"]).then((r) => ((resolved = true), r));
    const stream = await transport.stream(0);
    await nextTurn();
    expect(stream.written.map(payloads)).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    confirm(stream, 0, 0n);
    confirm(stream, 1, 2n);
    await nextTurn();
    expect(resolved).toBe(false);
    confirm(stream, 2, 4n);
    expect(await batch).toEqual([0n, 1n, 2n, 3n, 4n].map(at));
  });

  it("keeps requests within maxBatchMessages and maxBatchBytes when a batch follows sends", async () => {
    const { transport, publisher } = setup({ maxBatchMessages: 3, maxBatchBytes: 1000, lingerMs: 60_000, autoMessageId: false });
    void publisher.send("a");
    void publisher.sendBatch(["b", "c", "d"]);
    void publisher.sendBatch([new Uint8Array(600), new Uint8Array(600)]);
    void publisher.flush();
    const stream = await transport.stream(0);
    expect(stream.written.map((r) => r.messages.length)).toEqual([1, 3, 1, 1]);
    expect(payloads(stream.written[1]!)).toEqual(["b", "c", "d"]);
  });

  it("gives each message of a batch its own id unless it has one, in the same series as send", async () => {
    const { transport, publisher } = setup();
    void publisher.send("a");
    void publisher.sendBatch([{ payload: "b", messageId: "mine" }, "c", "d"]);
    const stream = await transport.stream(0);
    await nextTurn();
    const ids = stream.written.flatMap((r) => r.messages.map((m) => m.messageId));
    expect(ids).toHaveLength(4);
    expect(ids[1]).toBe("mine");
    expect(new Set(ids).size).toBe(4);
    expect(ids.every((id) => id.length > 0)).toBe(true);
  });

  it("rejects a batch with an invalid message before sending any of it, naming the message's index", async () => {
    const { transport, publisher } = setup();
    const { error } = await outcome(publisher.sendBatch(["a", "b", { payload: "c", partition: -1 }, "d"]));
    expect(error).toBeInstanceOf(SendBatchError);
    expect(error).toBeInstanceOf(SluiceError);
    expect(error).toMatchObject({ code: Code.InvalidArgument, index: 2, results: [undefined, undefined, undefined, undefined] });
    expect((error as Error).message).toMatch(/^message 2 of the batch: partition must be a uint32/);
    await nextTurn();
    expect(transport.streams).toHaveLength(0);
    // Nothing of the refused call is left pending.
    await publisher.flush();
  });

  it("resolves an empty batch with [] and sends nothing", async () => {
    const { transport, publisher } = setup();
    expect(await publisher.sendBatch([])).toEqual([]);
    await publisher.flush();
    expect(transport.streams).toHaveLength(0);
  });

  it("rejects with FAILED_PRECONDITION once close() was called", async () => {
    const { publisher } = setup();
    await publisher.close();
    const { error } = await outcome(publisher.sendBatch(["a", "b"]));
    expect(error).toBeInstanceOf(SendBatchError);
    expect(error).toMatchObject({ code: Code.FailedPrecondition, index: 0, results: [undefined, undefined] });
  });

  it("rejects a batch with a refused request with the first refused index and the positions of the stored messages", async () => {
    const { transport, publisher } = setup({ maxBatchMessages: 2 });
    const batch = outcome(publisher.sendBatch(["a", "b", "c", "d", "e"]));
    const after = publisher.send("f");
    const stream = await transport.stream(0);
    await nextTurn();
    expect(stream.written.map(payloads)).toEqual([["a", "b"], ["c", "d"], ["e", "f"]]);
    confirm(stream, 0, 0n);
    refuse(stream, 1, Code.NotFound, "topic t does not exist");
    confirm(stream, 2, 2n);
    const { error } = await batch;
    expect(error).toBeInstanceOf(SendBatchError);
    expect(error).toMatchObject({ code: Code.NotFound, message: "topic t does not exist", index: 2 });
    expect((error as SendBatchError).results).toEqual([at(0n), at(1n), undefined, undefined, at(2n)]);
    expect(await after).toEqual(at(3n));
  });

  it("sends a batch larger than maxUnconfirmedBytes in parts that fit the bound, one after another", async () => {
    // Each 100-byte message is estimated at well over 100 bytes: two fit in 300, a third does not.
    const { transport, publisher } = setup({ maxUnconfirmedBytes: 300, autoMessageId: false });
    const payload = new Uint8Array(100);
    const batch = publisher.sendBatch([payload, payload, payload, payload, payload]);
    const stream = await transport.stream(0);
    await nextTurn();
    expect(stream.written.map((r) => r.messages.length)).toEqual([2]);
    confirm(stream, 0, 0n);
    await nextTurn();
    expect(stream.written.map((r) => r.messages.length)).toEqual([2, 2]);
    confirm(stream, 1, 2n);
    await nextTurn();
    expect(stream.written.map((r) => r.messages.length)).toEqual([2, 2, 1]);
    confirm(stream, 2, 4n);
    expect(await batch).toEqual([0n, 1n, 2n, 3n, 4n].map(at));
  });

  it("sends a message larger than maxUnconfirmedBytes alone once nothing else is unconfirmed", async () => {
    const { transport, publisher } = setup({ maxUnconfirmedBytes: 300, autoMessageId: false });
    const before = publisher.send("a");
    const batch = publisher.sendBatch([new Uint8Array(1000), "b"]);
    const stream = await transport.stream(0);
    await nextTurn();
    expect(stream.written.map((r) => r.messages.length)).toEqual([1]);
    confirm(stream, 0, 0n);
    await nextTurn();
    expect(stream.written[1]!.messages[0]!.payload.byteLength).toBe(1000);
    confirm(stream, 1, 1n);
    await nextTurn();
    confirm(stream, 2, 2n);
    expect(await before).toEqual(at(0n));
    expect(await batch).toEqual([at(1n), at(2n)]);
  });

  it("after a broken stream, resends a batch's unconfirmed requests with the same ids and resolves once", async () => {
    const { transport, publisher } = setup({ maxBatchMessages: 2 });
    const batch = publisher.sendBatch(["a", "b", "c", "d", "e"]);
    const first = await transport.stream(0);
    await nextTurn();
    confirm(first, 0, 0n);
    const lost = first.written.slice(1);
    first.close(new SluiceError(Code.Unavailable, "connection dropped"));
    const second = await transport.stream(1);
    expect(second.written.map(payloads)).toEqual([["c", "d"], ["e"]]);
    expect(second.written.flatMap((r) => r.messages.map((m) => m.messageId))).toEqual(lost.flatMap((r) => r.messages.map((m) => m.messageId)));
    confirm(second, 0, 2n);
    confirm(second, 1, 4n);
    expect(await batch).toEqual([0n, 1n, 2n, 3n, 4n].map(at));
  });

  it("rejects with the stream's error when reconnection gives up, keeping the positions confirmed before", async () => {
    const { transport, publisher } = setup({ maxBatchMessages: 2 }, 1);
    const batch = outcome(publisher.sendBatch(["a", "b", "c", "d"]));
    const first = await transport.stream(0);
    await nextTurn();
    confirm(first, 0, 0n);
    first.close(new SluiceError(Code.Unavailable, "down 0"));
    (await transport.stream(1)).close(new SluiceError(Code.Unavailable, "down 1"));
    const { error } = await batch;
    expect(error).toMatchObject({ code: Code.Unavailable, message: "down 1", index: 2 });
    expect((error as SendBatchError).results).toEqual([at(0n), at(1n), undefined, undefined]);
  });

  it("flush and close wait for batches to be confirmed", async () => {
    const { transport, publisher } = setup({ maxBatchMessages: 2 });
    const batch = publisher.sendBatch(["a", "b", "c"]);
    let flushed = false;
    const flush = publisher.flush().then(() => (flushed = true));
    const stream = await transport.stream(0);
    confirm(stream, 0, 0n);
    await nextTurn();
    expect(flushed).toBe(false);
    let closed = false;
    const closing = publisher.close().then(() => (closed = true));
    await nextTurn();
    expect(stream.ended).toBe(false);
    confirm(stream, 1, 2n);
    await flush;
    expect(await batch).toHaveLength(3);
    await nextTurn();
    expect(stream.ended).toBe(true);
    expect(closed).toBe(false);
    stream.close();
    await closing;
  });
});
