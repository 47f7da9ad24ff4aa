/**
 * The protobuf reading that the client's hand-written decoders share
 * (`deliveries-decoder.ts`, `publish-response-decoder.ts`): it never throws,
 * and gives up with -1 or `undefined` on anything it does not take, so that
 * the caller falls back to protobuf-es's `fromBinary`.
 * @internal
 */

/** Wire types. */
export const VARINT = 0;
export const LEN = 2;

/** A field's tag: its number and wire type. */
export const tag = (field: number, wire: number): number => (field << 3) | wire;

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * A position in `buf` that gives up (-1 / undefined) instead of throwing.
 * `end` may be narrowed to read a nested body with the same reader (see
 * {@link enter}), sparing a reader per nested message on hot paths.
 */
export class Reader {
  constructor(
    readonly buf: Uint8Array,
    public pos: number,
    public end: number,
  ) {}

  /**
   * Narrows the reader to the length-delimited body at `pos`; returns the
   * end to restore with {@link leave} once the body is read (then `pos` is at
   * the body's end), or -1 when the body is out of bounds.
   */
  enter(): number {
    const end = this.bodyEnd();
    if (end < 0) return -1;
    const outer = this.end;
    this.end = end;
    return outer;
  }

  /** Restores the end {@link enter} returned; `pos` must be at the body's end. */
  leave(outer: number): void {
    this.end = outer;
  }

  /** A varint up to 2^53 - 1; -1 when longer, truncated or larger. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) return -1;
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result <= Number.MAX_SAFE_INTEGER ? result : -1;
      scale *= 128;
    }
    return -1;
  }

  /** The end of a length-delimited body starting at `pos` after its length; -1 when out of bounds. */
  bodyEnd(): number {
    const len = this.varint();
    if (len < 0 || this.pos + len > this.end) return -1;
    return this.pos + len;
  }

  /** A string field's text; undefined for invalid UTF-8 or bad bounds. */
  string(): string | undefined {
    const end = this.bodyEnd();
    if (end < 0) return undefined;
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
    // grpc-js hands over Buffers: read them in place, without a view each.
    if (Buffer.isBuffer(buf)) return buf.toString("latin1", start, end);
    return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString("latin1");
  }
}
