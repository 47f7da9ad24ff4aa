import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Code } from "../src/code.js";
import type { ConnectionStatus } from "../src/connection-status.js";
import { PublishStreamResponseSchema } from "../src/gen/sluice/v1/broker_pb.js";
import { SluiceError } from "../src/sluice-error.js";
import { nextTurn } from "./helpers/fake-stream.js";
import { confirm, fakePublisher as setup, payloads } from "./helpers/fake-publisher.js";

describe("Publisher", () => {
  it("batches sends made in the same turn into one request and resolves each with its own position", async () => {
    const { transport, publisher } = setup();
    const sends = ["a", "b", "c"].map((p) => publisher.send(p));
    const stream = await transport.stream(0);
    await nextTurn();
    expect(stream.written).toHaveLength(1);
    expect(payloads(stream.written[0]!)).toEqual(["a", "b", "c"]);
    confirm(stream, 0, 10n);
    expect(await Promise.all(sends)).toEqual([
      { partition: 0, offset: 10n, duplicate: false },
      { partition: 0, offset: 11n, duplicate: false },
      { partition: 0, offset: 12n, duplicate: false },
    ]);
  });

  it("seals a batch as soon as it holds maxBatchMessages, without waiting for the linger time", async () => {
    const { transport, publisher } = setup({ maxBatchMessages: 2, lingerMs: 60_000 });
    for (const p of ["a", "b", "c", "d", "e"]) void publisher.send(p);
    const stream = await transport.stream(0);
    expect(stream.written.map(payloads)).toEqual([["a", "b"], ["c", "d"]]);
    void publisher.flush();
    expect(stream.written.map(payloads)).toEqual([["a", "b"], ["c", "d"], ["e"]]);
  });

  it("pipelines requests with distinct request ids and matches each response by id", async () => {
    const { transport, publisher } = setup({ maxBatchMessages: 1 });
    const first = publisher.send("a");
    const second = publisher.send("b");
    const stream = await transport.stream(0);
    expect(stream.written.map((r) => r.requestId)).toEqual([1n, 2n]);
    confirm(stream, 0, 5n);
    confirm(stream, 1, 6n);
    expect(await first).toMatchObject({ partition: 0, offset: 5n });
    expect(await second).toMatchObject({ partition: 0, offset: 6n });
  });

  it("stops writing when the stream asks to wait and resumes on 'drain'", async () => {
    const { transport, publisher } = setup({ maxBatchMessages: 1 });
    void publisher.send("a");
    const stream = await transport.stream(0);
    stream.accepting = false;
    void publisher.send("b");
    void publisher.send("c");
    expect(stream.written.map(payloads)).toEqual([["a"], ["b"]]);
    stream.drain();
    expect(stream.written.map(payloads)).toEqual([["a"], ["b"], ["c"]]);
  });

  it("holds sends beyond maxUnconfirmedBytes until confirmations free room", async () => {
    // Each 100-byte message is estimated at well over 100 bytes: two fit in 300, a third does not.
    const { transport, publisher } = setup({ maxBatchMessages: 1, maxUnconfirmedBytes: 300, autoMessageId: false });
    const payload = new Uint8Array(100);
    const sends = [1, 2, 3].map(() => publisher.send(payload));
    const stream = await transport.stream(0);
    await nextTurn();
    expect(stream.written).toHaveLength(2);
    confirm(stream, 0);
    expect(stream.written).toHaveLength(3);
    confirm(stream, 1);
    confirm(stream, 2);
    expect(await Promise.all(sends)).toHaveLength(3);
  });

  it("after a broken stream, reconnects and resends unconfirmed batches in order with the same message ids", async () => {
    const { transport, publisher } = setup({ maxBatchMessages: 2 });
    const sends = ["a", "b", "c", "d", "e"].map((p) => publisher.send(p));
    const first = await transport.stream(0);
    await nextTurn();
    expect(first.written).toHaveLength(3);
    confirm(first, 0, 0n);
    const lost = first.written.slice(1);
    first.close(new SluiceError(Code.Unavailable, "connection dropped"));
    const second = await transport.stream(1);
    expect(second.written.map(payloads)).toEqual([["c", "d"], ["e"]]);
    expect(second.written.flatMap((r) => r.messages.map((m) => m.messageId))).toEqual(
      lost.flatMap((r) => r.messages.map((m) => m.messageId)),
    );
    confirm(second, 0, 2n);
    confirm(second, 1, 4n);
    expect((await Promise.all(sends)).map((r) => r.offset)).toEqual([0n, 1n, 2n, 3n, 4n]);
  });

  it("gives each message a unique id unless it has its own", async () => {
    const { transport, publisher } = setup();
    void publisher.send({ payload: "a", messageId: "mine" });
    for (let i = 0; i < 100; i++) void publisher.send("x");
    const stream = await transport.stream(0);
    await nextTurn();
    const ids = stream.written[0]!.messages.map((m) => m.messageId);
    expect(ids[0]).toBe("mine");
    expect(new Set(ids).size).toBe(101);
    expect(ids.every((id) => id.length > 0)).toBe(true);
  });

  it("rejects the sends of a refused request with the broker's code, and keeps the stream for the others", async () => {
    const { transport, publisher } = setup({ maxBatchMessages: 1 });
    const refused = publisher.send("a");
    const accepted = publisher.send("b");
    const stream = await transport.stream(0);
    stream.respond(
      create(PublishStreamResponseSchema, { requestId: stream.written[0]!.requestId, error: { code: 5, message: "topic t does not exist" } }),
    );
    confirm(stream, 1, 7n);
    await expect(refused).rejects.toMatchObject({ code: Code.NotFound, message: "topic t does not exist" });
    await expect(refused).rejects.toBeInstanceOf(SluiceError);
    expect(await accepted).toMatchObject({ partition: 0, offset: 7n });
    expect(transport.streams).toHaveLength(1);
  });

  it("flush resolves once every earlier send settled; close waits for confirmations, then ends the stream", async () => {
    const { transport, publisher } = setup({ lingerMs: 60_000 });
    const send = publisher.send("a");
    let flushed = false;
    const flush = publisher.flush().then(() => (flushed = true));
    const stream = await transport.stream(0);
    expect(stream.written).toHaveLength(1);
    await nextTurn();
    expect(flushed).toBe(false);
    const closing = publisher.close();
    await expect(publisher.send("late")).rejects.toMatchObject({ code: Code.FailedPrecondition });
    confirm(stream, 0);
    await send;
    await flush;
    await nextTurn();
    expect(stream.ended).toBe(true);
    stream.close();
    await closing;
  });

  it("reports disconnected, reconnecting and connected on its status iterable", async () => {
    const { transport, publisher } = setup();
    const status = publisher.status();
    const seen: ConnectionStatus["type"][] = [];
    const reading = (async () => {
      for await (const s of status) seen.push(s.type);
    })();
    void publisher.send("a");
    const first = await transport.stream(0);
    await nextTurn();
    confirm(first, 0);
    first.close(new SluiceError(Code.Unavailable, "gone"));
    void publisher.send("b");
    const second = await transport.stream(1);
    await nextTurn();
    confirm(second, 0);
    const closing = publisher.close();
    await nextTurn();
    second.close();
    await closing;
    await reading;
    expect(seen).toEqual(["connected", "disconnected", "reconnecting", "connected"]);
  });

  it("reports one disconnected per lost connection and one reconnecting per attempt", async () => {
    const { transport, publisher } = setup();
    const status = publisher.status();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const s of status) seen.push(s.type === "reconnecting" ? `reconnecting ${s.attempt}` : s.type);
    })();
    const send = publisher.send("a");
    const first = await transport.stream(0);
    first.close(new SluiceError(Code.Unavailable, "refused"));
    (await transport.stream(1)).close(new SluiceError(Code.Unavailable, "refused"));
    const third = await transport.stream(2);
    expect(third.written.map(payloads)).toEqual([["a"]]);
    confirm(third, 0);
    await send;
    const closing = publisher.close();
    await nextTurn();
    third.close();
    await closing;
    await reading;
    expect(seen).toEqual(["disconnected", "reconnecting 1", "reconnecting 2", "connected"]);
  });

  it("gives up after maxAttempts failed reconnections and rejects what is pending with the last error", async () => {
    const { transport, publisher } = setup({}, 2);
    const send = publisher.send("a");
    for (let i = 0; i < 3; i++) (await transport.stream(i)).close(new SluiceError(Code.Unavailable, `down ${i}`));
    await expect(send).rejects.toMatchObject({ code: Code.Unavailable, message: "down 2" });
  });

  it("fails pending sends at once on a stream error that retrying cannot fix", async () => {
    const { transport, publisher } = setup();
    const send = publisher.send("a");
    (await transport.stream(0)).close(new SluiceError(Code.PermissionDenied, "no"));
    await expect(send).rejects.toMatchObject({ code: Code.PermissionDenied });
    expect(transport.streams).toHaveLength(1);
  });

  it("rejects a malformed message without affecting others", async () => {
    const { publisher } = setup();
    await expect(publisher.send({ payload: 5 as never })).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(publisher.send({ payload: "x", partition: -2 })).rejects.toBeInstanceOf(SluiceError);
  });
});
