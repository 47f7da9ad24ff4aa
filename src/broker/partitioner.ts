const encoder = new TextEncoder();

/**
 * FNV-1a, 32 bits, over the UTF-8 bytes of `key`: the documented hash that
 * maps keys to partitions (`fnv1a32(key) % partitions`), simple to compute
 * in any language.
 */
export function fnv1a32(key: string): number {
  const bytes = encoder.encode(key);
  let h = 0x811c9dc5;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The partition for a key: `fnv1a32(key) % partitions`. */
export function partitionForKey(key: string, partitions: number): number {
  return fnv1a32(key) % partitions;
}
