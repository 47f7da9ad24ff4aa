import { describe, expect, it } from "vitest";
import { RequestWindow, type SealedRequest } from "../src/request-window.js";

function sealed(requestId: bigint): SealedRequest {
  return { entries: [], bytes: 10, request: { $typeName: "sluice.v1.PublishStreamRequest", requestId, topic: "t", messages: [] } };
}

const ids = (all: (SealedRequest | undefined)[]) => all.map((s) => s?.request.requestId);

describe("RequestWindow", () => {
  it("hands requests out in order and finds each one's answer once", () => {
    const w = new RequestWindow();
    for (const id of [1n, 2n, 3n]) w.push(sealed(id));
    expect(ids([w.writeNext(), w.writeNext()])).toEqual([1n, 2n]);
    expect(w.queued).toBe(1);
    expect(ids([w.answered(2n), w.answered(2n), w.answered(9n)])).toEqual([2n, undefined, undefined]);
    expect(ids([w.writeNext(), w.writeNext()])).toEqual([3n, undefined]);
  });

  it("puts requests in flight back in front of the queue, in the order they were written", () => {
    const w = new RequestWindow();
    for (const id of [1n, 2n, 3n, 4n]) w.push(sealed(id));
    w.writeNext();
    w.writeNext();
    w.writeNext();
    w.answered(2n);
    w.requeue();
    expect(w.queued).toBe(3);
    expect(ids([w.writeNext(), w.writeNext(), w.writeNext()])).toEqual([1n, 3n, 4n]);
  });

  it("takes everything, in flight first, and is empty afterwards", () => {
    const w = new RequestWindow();
    for (const id of [1n, 2n, 3n]) w.push(sealed(id));
    w.writeNext();
    expect(ids(w.takeAll())).toEqual([1n, 2n, 3n]);
    expect(w.queued).toBe(0);
    expect(w.answered(1n)).toBeUndefined();
    expect(w.takeAll()).toEqual([]);
  });
});
