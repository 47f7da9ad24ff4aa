import { Code } from "./code.js";
import { SluiceError } from "./sluice-error.js";

/**
 * What a message's payload may be given as: bytes, sent as they are, or a
 * string, sent as UTF-8. For JSON, encode explicitly with {@link json}, so a
 * string is never JSON-quoted by accident.
 */
export type Payload = Uint8Array | string;

/** Any value `JSON.stringify` turns into JSON text. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue | undefined };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

/**
 * Encodes a value as JSON in UTF-8: the explicit encoder for JSON payloads.
 * Throws a {@link SluiceError} with {@link Code.InvalidArgument} for a value
 * JSON cannot represent (`undefined`, a function, a cycle, a bigint).
 *
 * @example publisher.send({ payload: json({ orderId: 42 }) })
 */
export function json(value: JsonValue): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new SluiceError(Code.InvalidArgument, `payload is not JSON-serialisable: ${String(err)}`, { cause: err });
  }
  if (text === undefined) throw new SluiceError(Code.InvalidArgument, "payload is not JSON-serialisable");
  return encoder.encode(text);
}

/**
 * The bytes of a payload: a `Uint8Array` (a `Buffer` too) is returned as is,
 * without a copy; a string is encoded as UTF-8. Throws a {@link SluiceError}
 * with {@link Code.InvalidArgument} for anything else.
 */
export function encodePayload(payload: Payload): Uint8Array {
  if (payload instanceof Uint8Array) return payload;
  if (typeof payload === "string") return encoder.encode(payload);
  throw new SluiceError(Code.InvalidArgument, `payload must be a Uint8Array or a string, got ${typeof payload}`);
}

/** Decodes UTF-8 bytes to a string; invalid sequences become U+FFFD. */
export function decodeText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * Parses UTF-8 JSON bytes. Throws a {@link SluiceError} with
 * {@link Code.InvalidArgument} when the bytes are not JSON.
 */
export function decodeJson<T = unknown>(bytes: Uint8Array): T {
  try {
    return JSON.parse(decoder.decode(bytes)) as T;
  } catch (err) {
    throw new SluiceError(Code.InvalidArgument, `payload is not JSON: ${String(err)}`, { cause: err });
  }
}
