import { describe, expect, it, vi } from "vitest";
import { Code } from "../src/code.js";
import type { ConnectionStatus } from "../src/connection-status.js";
import { SluiceError } from "../src/sluice-error.js";
import { nextTurn } from "./helpers/fake-stream.js";
import { deliver, openRequest, setup, subscribed, take, verbs } from "./helpers/fake-subscription.js";

describe("Subscription", () => {
  it("opens the stream with `open` and yields delivered messages in order", async () => {
    const { transport, sub } = setup();
    const stream = await transport.stream(0);
    expect(stream.written[0]).toBe(openRequest);
    subscribed(stream);
    deliver(stream, 0, 3);
    const got = await take(sub, 3);
    expect(got.map((m) => [m.offset, m.text(), m.attempt])).toEqual([
      [0n, "m0", 1],
      [1n, "m1", 1],
      [2n, "m2", 1],
    ]);
    expect(sub.consumerId).toBe("c1");
  });

  it("coalesces the acks of one event-loop turn into one stream write", async () => {
    const { transport, sub } = setup();
    const stream = await transport.stream(0);
    subscribed(stream);
    deliver(stream, 0, 100);
    const got = await take(sub, 100);
    for (const m of got) m.ack();
    expect(verbs(stream)).toEqual([]);
    await nextTurn();
    expect(verbs(stream)).toEqual([{ ack: got.map((m) => Number(m.offset)) }]);
  });

  it("counts only the first ack or nack of a message and groups nacks by delay", async () => {
    const { transport, sub } = setup();
    const stream = await transport.stream(0);
    subscribed(stream);
    deliver(stream, 0, 3);
    const [a, b, c] = await take(sub, 3);
    a!.nack();
    a!.ack();
    b!.nack(5000);
    c!.nack(5000);
    c!.nack(0);
    await nextTurn();
    // No delay given: left unset, so the group's retry backoff applies.
    expect(verbs(stream)).toEqual([
      { nack: [0], delayMs: "unset" },
      { nack: [1, 2], delayMs: 5000 },
    ]);
    expect(() => a!.nack(-1)).toThrowError(expect.objectContaining({ code: Code.InvalidArgument }));
    expect(() => a!.extend(10)).toThrowError(expect.objectContaining({ code: Code.InvalidArgument }));
  });

  it("writes acks only while the stream takes them and the rest after 'drain'", async () => {
    const { transport, sub } = setup();
    const stream = await transport.stream(0);
    subscribed(stream);
    deliver(stream, 0, 2);
    const [a, b] = await take(sub, 2);
    stream.accepting = false;
    a!.ack();
    await nextTurn();
    b!.nack();
    await nextTurn();
    expect(verbs(stream)).toEqual([{ ack: [0] }]);
    stream.drain();
    expect(verbs(stream)).toEqual([{ ack: [0] }, { nack: [1], delayMs: "unset" }]);
  });

  it("on break in for-await, writes pending acks, half-closes the stream, and settles `closed`", async () => {
    const { transport, sub } = setup();
    const stream = await transport.stream(0);
    subscribed(stream);
    deliver(stream, 0, 5);
    const looping = (async () => {
      for await (const m of sub) {
        m.ack();
        if (m.offset === 1n) break;
      }
    })();
    await nextTurn();
    expect(stream.ended).toBe(true);
    expect(verbs(stream)).toEqual([{ ack: [0, 1] }]);
    stream.close();
    await looping;
    expect(await sub.closed).toBeUndefined();
  });

  it("closes when its signal aborts, ending the iteration without an error", async () => {
    const controller = new AbortController();
    const { transport, sub } = setup({ signal: controller.signal });
    const stream = await transport.stream(0);
    subscribed(stream);
    const looping = (async () => {
      let n = 0;
      for await (const _ of sub) n++;
      return n;
    })();
    deliver(stream, 0, 1);
    await nextTurn();
    controller.abort();
    await nextTurn();
    expect(stream.ended).toBe(true);
    stream.close(new SluiceError(Code.Cancelled, "cancelled"));
    expect(await looping).toBe(1);
    expect(await sub.closed).toBeUndefined();
  });

  it("an already aborted signal closes at once without opening a stream", async () => {
    const { transport, sub } = setup({ signal: AbortSignal.abort() });
    expect(await sub.closed).toBeUndefined();
    expect(await take(sub, 1)).toEqual([]);
    expect(transport.streams).toHaveLength(0);
  });

  it("after a broken stream, reconnects, drops messages buffered from it, and reports its status", async () => {
    const { transport, sub } = setup();
    const seen: ConnectionStatus["type"][] = [];
    const reading = (async () => {
      for await (const s of sub.status()) seen.push(s.type);
    })();
    const first = await transport.stream(0);
    subscribed(first);
    deliver(first, 0, 3);
    const [m0] = await take(sub, 1);
    first.close(new SluiceError(Code.Unavailable, "broker gone"));
    const second = await transport.stream(1);
    expect(second.written[0]).toBe(openRequest);
    subscribed(second);
    deliver(second, 1, 2, 2);
    const next = await take(sub, 2);
    // m1 and m2 from the broken stream are not handed out; their redeliveries are.
    expect(next.map((m) => [m.offset, m.attempt])).toEqual([
      [1n, 2],
      [2n, 2],
    ]);
    // An ack of a message from the old stream is still sent: it may spare a redelivery.
    m0!.ack();
    await nextTurn();
    expect(verbs(second)).toEqual([{ ack: [0] }]);
    const closing = sub.close();
    await nextTurn();
    second.close();
    await closing;
    await reading;
    expect(seen).toEqual(["connected", "disconnected", "reconnecting", "connected"]);
  });

  it("ends the iteration with the SluiceError of a stream error retrying cannot fix", async () => {
    const { transport, sub } = setup();
    const stream = await transport.stream(0);
    subscribed(stream);
    const looping = (async () => {
      for await (const _ of sub) {
        // nothing arrives
      }
    })();
    await nextTurn();
    stream.close(new SluiceError(Code.Aborted, "group deleted"));
    await expect(looping).rejects.toMatchObject({ code: Code.Aborted, message: "group deleted" });
    expect(await sub.closed).toMatchObject({ code: Code.Aborted });
    expect(transport.streams).toHaveLength(1);
  });

  it("process acks messages whose handler resolves, nacks those whose handler throws, within the concurrency", async () => {
    const { transport, sub } = setup();
    const stream = await transport.stream(0);
    subscribed(stream);
    let running = 0;
    let peak = 0;
    const done = sub.process(
      async (m) => {
        running++;
        peak = Math.max(peak, running);
        await nextTurn();
        running--;
        if (m.offset % 2n === 1n) throw new Error("odd");
      },
      { concurrency: 3, nackDelayMs: 1000 },
    );
    deliver(stream, 0, 10);
    while (verbs(stream).flatMap((v) => ("ack" in v ? v.ack! : "nack" in v ? v.nack! : [])).length < 10) await nextTurn();
    expect(peak).toBe(3);
    const acked = verbs(stream).flatMap((v) => ("ack" in v ? v.ack! : []));
    const nacked = verbs(stream).flatMap((v) => ("nack" in v ? v.nack! : []));
    expect(acked.sort((a, b) => a - b)).toEqual([0, 2, 4, 6, 8]);
    expect(nacked.sort((a, b) => a - b)).toEqual([1, 3, 5, 7, 9]);
    expect(verbs(stream).every((v) => !("nack" in v) || v.delayMs === 1000)).toBe(true);
    const closing = sub.close();
    await nextTurn();
    stream.close();
    await closing;
    await done;
  });

  it("close waits for running handlers and writes their acks before half-closing", async () => {
    const { transport, sub } = setup();
    const stream = await transport.stream(0);
    subscribed(stream);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const done = sub.process(() => gate);
    deliver(stream, 0, 1);
    await nextTurn();
    const closing = sub.close();
    await nextTurn();
    expect(stream.ended).toBe(false);
    release();
    await nextTurn();
    expect(verbs(stream)).toEqual([{ ack: [0] }]);
    expect(stream.ended).toBe(true);
    stream.close();
    await closing;
    await done;
  });

  it("extends the leases of held messages at half the ack deadline, and stops at maxLeaseMs", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    try {
      const { transport, sub } = setup({ maxLeaseMs: 3000 });
      const stream = await transport.stream(0);
      subscribed(stream, 1000);
      deliver(stream, 0, 2);
      const [a] = await take(sub, 1);
      a!.ack();
      await nextTurn();
      expect(verbs(stream)).toEqual([{ ack: [0] }]);
      // The timer ticks every 250 ms; at 500 ms half the 1 s lease is left.
      vi.advanceTimersByTime(499);
      expect(verbs(stream)).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(verbs(stream)).toEqual([{ ack: [0] }, { extend: [1], ms: 1000 }]);
      vi.advanceTimersByTime(10_000);
      const extensions = verbs(stream).filter((v) => "extend" in v);
      // Extended every 500 ms until 3 s after delivery, then left to expire.
      expect(extensions).toHaveLength(5);
      const closing = sub.close();
      stream.close();
      await closing;
    } finally {
      vi.useRealTimers();
    }
  });
});
