import { describe, expect, it } from "vitest";
import { AsyncQueue } from "../src/async-queue.js";
import { Code } from "../src/code.js";
import { StatusChannel, type ConnectionStatus } from "../src/connection-status.js";
import { SluiceError } from "../src/sluice-error.js";

describe("StatusChannel", () => {
  it("gives every reader the events emitted after it started, then ends them", async () => {
    const channel = new StatusChannel();
    channel.emit({ type: "connected" });
    const a = channel.iterate();
    const b = channel.iterate();
    const error = new SluiceError(Code.Unavailable, "gone");
    channel.emit({ type: "disconnected", error });
    channel.emit({ type: "reconnecting", attempt: 1, delayMs: 100 });
    channel.end();
    const read = async (it: AsyncIterable<ConnectionStatus>) => {
      const out: string[] = [];
      for await (const s of it) out.push(s.type);
      return out;
    };
    expect(await read(a)).toEqual(["disconnected", "reconnecting"]);
    expect(await read(b)).toEqual(["disconnected", "reconnecting"]);
    expect(await read(channel.iterate())).toEqual([]);
  });

  it("bounds the backlog of a reader that does not read", async () => {
    const channel = new StatusChannel();
    const slow = channel.iterate();
    for (let i = 1; i <= 1000; i++) channel.emit({ type: "reconnecting", attempt: i, delayMs: 0 });
    channel.end();
    const seen: number[] = [];
    for await (const s of slow) if (s.type === "reconnecting") seen.push(s.attempt);
    expect(seen.length).toBe(64);
    expect(seen.at(-1)).toBe(1000);
  });

  it("detaches a reader that returns early", async () => {
    const channel = new StatusChannel();
    const it = channel.iterate();
    const pending = it.next();
    await it.return!();
    expect(await pending).toEqual({ value: undefined, done: true });
    channel.emit({ type: "connected" });
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });
});

describe("AsyncQueue", () => {
  it("hands items to waiting pullers in order and ends them on close", async () => {
    const q = new AsyncQueue<number>();
    const first = q.pull();
    q.push(1);
    q.push(2);
    expect(await first).toEqual({ value: 1, done: false });
    expect(await q.pull()).toEqual({ value: 2, done: false });
    const waiting = q.pull();
    q.close();
    expect(await waiting).toEqual({ value: undefined, done: true });
    q.push(3);
    expect(await q.pull()).toEqual({ value: undefined, done: true });
  });

  it("makes current and later pullers throw after fail", async () => {
    const q = new AsyncQueue<number>();
    const waiting = q.pull();
    const error = new SluiceError(Code.Aborted, "deleted");
    q.fail(error);
    await expect(waiting).rejects.toBe(error);
    await expect(q.pull()).rejects.toBe(error);
  });

  it("takes a waiting item without a promise, in order with pull, and nothing once closed or failed", async () => {
    const q = new AsyncQueue<number>();
    expect(q.take()).toBeUndefined();
    for (let i = 0; i < 3000; i++) q.push(i);
    for (let i = 0; i < 3000; i += 2) {
      expect(q.take()).toBe(i);
      expect((await q.pull()).value).toBe(i + 1);
    }
    expect(q.take()).toBeUndefined();
    q.push(7);
    q.close();
    expect(q.take()).toBeUndefined();
    const failed = new AsyncQueue<number>();
    failed.push(1);
    failed.fail(new SluiceError(Code.Aborted, "deleted"));
    expect(failed.take()).toBeUndefined();
  });

  it("keeps order across many items", async () => {
    const q = new AsyncQueue<number>();
    for (let i = 0; i < 5000; i++) q.push(i);
    for (let i = 0; i < 5000; i++) expect((await q.pull()).value).toBe(i);
    expect(q.length).toBe(0);
  });
});
