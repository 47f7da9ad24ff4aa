/**
 * UTF-8 lengths and writes for the publish hot path, where most strings
 * (message ids, keys) are short and ASCII: a loop here costs less than a
 * call into C++ (`Buffer.byteLength`, `Buffer.write`) per string.
 * @internal
 */

/** Strings longer than this go to Buffer's native code, which is faster there. */
const SHORT = 64;

/** The UTF-8 length of `s`. */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n > SHORT) return Buffer.byteLength(s, "utf8");
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, "utf8");
  return n;
}

/**
 * Writes `s` as UTF-8 at `p` in `out`, given its {@link utf8Length}; returns
 * the position after it. A length equal to the string's means all ASCII.
 */
export function writeUtf8(out: Buffer, p: number, s: string, length: number): number {
  if (length !== s.length || length > SHORT) return p + out.write(s, p, length, "utf8");
  for (let i = 0; i < length; i++) out[p + i] = s.charCodeAt(i);
  return p + length;
}
