import type { Server } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { serverDrained } from "../../src/server/server-drained.js";

/** Stands in for grpc-js's Server: only the two maps serverDrained reads. */
function fakeServer(listeners: number, sessions: number) {
  const internals = {
    http2Servers: new Map<number, unknown>(Array.from({ length: listeners }, (_, i) => [i, {}])),
    sessions: new Map<number, unknown>(Array.from({ length: sessions }, (_, i) => [i, {}])),
  };
  return { server: internals as unknown as Server, internals };
}

const settled = async (p: Promise<void>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  // Two timer turns of the poll below, so a check had the chance to run.
  await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 5));
  return done;
};

describe("serverDrained", () => {
  it("resolves at once when the server holds no listener and no session", async () => {
    const { server } = fakeServer(0, 0);
    await expect(serverDrained(server, new AbortController().signal, 1)).resolves.toBeUndefined();
  });

  it("waits while a session is open and resolves once the last one is gone", async () => {
    const { server, internals } = fakeServer(0, 2);
    const drained = serverDrained(server, new AbortController().signal, 1);
    internals.sessions.delete(0);
    expect(await settled(drained)).toBe(false);
    internals.sessions.delete(1);
    await expect(drained).resolves.toBeUndefined();
  });

  it("waits while a listener is still closing", async () => {
    const { server, internals } = fakeServer(1, 0);
    const drained = serverDrained(server, new AbortController().signal, 1);
    expect(await settled(drained)).toBe(false);
    internals.http2Servers.clear();
    await expect(drained).resolves.toBeUndefined();
  });

  it("stops checking once aborted", async () => {
    const { server, internals } = fakeServer(0, 1);
    const done = new AbortController();
    const drained = serverDrained(server, done.signal, 1);
    done.abort();
    internals.sessions.clear();
    expect(await settled(drained)).toBe(false);
  });

  it("never resolves on a grpc-js that keeps its sessions elsewhere", async () => {
    const drained = serverDrained({} as Server, new AbortController().signal, 1);
    expect(await settled(drained)).toBe(false);
  });
});
