import type { RecordCodec } from "../../src/broker/record-codec.js";
import type { PublishInput } from "../../src/broker/types.js";

/**
 * A readable codec for core tests: JSON of the payload text, key, message id
 * and publish time. Records of equal payloads, keys and ids have equal sizes
 * (times have 13 digits).
 */
export const textCodec: RecordCodec = {
  encode: (m, t) => new TextEncoder().encode(JSON.stringify({ p: new TextDecoder().decode(m.payload), k: m.key, id: m.messageId, t })),
  publishTime: (v) => parse(v).t,
  size: (m) => m.payload.byteLength + m.key.length,
  key: (v) => parse(v).k,
  decode: (v) => ({ key: parse(v).k, payload: new TextEncoder().encode(parse(v).p), headers: {}, messageId: parse(v).id }),
};

function parse(v: Uint8Array): { p: string; k: string; id: string; t: number } {
  return JSON.parse(new TextDecoder().decode(v));
}

/** The payload text of a stored record. */
export const text = (v: Uint8Array): string => parse(v).p;

/** A message with a payload and, optionally, a message id, partition or key. */
export function msg(payload: string, messageId = "", partition?: number, key = ""): PublishInput {
  return { key, payload: new TextEncoder().encode(payload), headers: {}, messageId, partition };
}
