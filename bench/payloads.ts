/** Message payloads for the workloads: random (incompressible) bytes, so LevelDB's compression flatters no one. */
import { randomFillSync } from "node:crypto";

/** `count` distinct random payloads of `size` bytes (cycle through them). */
export function randomPayloads(size: number, count = 1024): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) out.push(randomFillSync(Buffer.allocUnsafe(size)));
  return out;
}

/** A fresh payload of `size` bytes (at least 8) whose first 8 bytes hold `performance.now()`, for latency. */
export function stampedPayload(template: Buffer): Buffer {
  const b = Buffer.allocUnsafe(template.length);
  template.copy(b);
  b.writeDoubleLE(performance.now(), 0);
  return b;
}

/** The send time stamped by {@link stampedPayload}. */
export function stampOf(payload: Uint8Array): number {
  return new DataView(payload.buffer, payload.byteOffset, 8).getFloat64(0, true);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
