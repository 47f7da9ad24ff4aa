/**
 * The protobuf reading that the hand-written request decoders share
 * (`publish-request-decoder.ts`, `subscribe-request-decoder.ts`). It never
 * throws: anything it does not take comes back as {@link UNUSUAL} (or
 * `undefined`), and the decoder then leaves the bytes to protobuf-es, which
 * gives them their exact result or error. No object is made per read: the
 * position and the end are fields the decoder moves.
 */

/** What a read returns for input the fast path does not take. */
export const UNUSUAL = -1;

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A position in `buf`, reading up to `end` (which a decoder may narrow to a field's body and restore). */
export class WireReader {
  /** `buf` as a Buffer (one view, made once), so that ASCII strings decode without a Buffer each. */
  readonly #text: Buffer;

  constructor(
    readonly buf: Uint8Array,
    public pos: number,
    public end: number,
  ) {
    this.#text = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** The varint at `pos` in at most `maxBytes` bytes (default 8) and below 2^53, or UNUSUAL. */
  varint(maxBytes = 8): number {
    let value = 0;
    let scale = 1;
    const last = Math.min(this.pos + maxBytes, this.end);
    while (this.pos < last) {
      const b = this.buf[this.pos++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value <= Number.MAX_SAFE_INTEGER ? value : UNUSUAL;
      scale *= 128;
    }
    return UNUSUAL;
  }

  /** Reads a length prefix; returns where the body ends (`pos` is at its start), or UNUSUAL when out of bounds. */
  bodyEnd(maxLengthBytes = 8): number {
    const length = this.varint(maxLengthBytes);
    if (length === UNUSUAL || this.pos + length > this.end) return UNUSUAL;
    return this.pos + length;
  }

  /** A length-prefixed string: its text, or undefined for bad bounds or invalid UTF-8 (as protobuf-es refuses). */
  string(): string | undefined {
    const end = this.bodyEnd();
    if (end === UNUSUAL) return undefined;
    const start = this.pos;
    this.pos = end;
    const buf = this.buf;
    for (let i = start; i < end; i++) {
      if (buf[i]! > 0x7f) {
        try {
          return strict.decode(buf.subarray(start, end));
        } catch {
          return undefined;
        }
      }
    }
    return this.#text.toString("latin1", start, end);
  }
}
