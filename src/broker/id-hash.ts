/**
 * A 96-bit hash of a message id within a topic, for the dedupe index, which
 * keeps hashes instead of the ids themselves (a few bytes per entry instead
 * of a string and an object). Four multiply-xor lanes over the UTF-16 code
 * units (in the style of cyrb53), seeded with the topic id, mixed pairwise
 * and folded into three 32-bit words.
 *
 * Not cryptographic: the chance that two different ids of one topic share a
 * hash is about 2^-96 per pair, so with a million ids in the window a publish
 * is mistaken for a duplicate about once in 10^22 publishes.
 */

/** Writes the hash of `id` on topic `topicId` into `out[0..2]`. */
export function hashMessageId(topicId: number, id: string, out: Uint32Array): void {
  let a1 = 0xdeadbeef ^ topicId;
  let a2 = 0x41c6ce57 ^ topicId;
  let b1 = 0x9e3779b9 ^ topicId;
  let b2 = 0x85ebca6b ^ topicId;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a1 = Math.imul(a1 ^ c, 2654435761);
    a2 = Math.imul(a2 ^ c, 1597334677);
    b1 = Math.imul(b1 ^ c, 2246822519);
    b2 = Math.imul(b2 ^ c, 3266489917);
  }
  a1 = Math.imul(a1 ^ (a1 >>> 16), 2246822507) ^ Math.imul(a2 ^ (a2 >>> 13), 3266489909);
  a2 = Math.imul(a2 ^ (a2 >>> 16), 2246822507) ^ Math.imul(a1 ^ (a1 >>> 13), 3266489909);
  b1 = Math.imul(b1 ^ (b1 >>> 15), 2654435761) ^ Math.imul(b2 ^ (b2 >>> 12), 668265263);
  b2 = Math.imul(b2 ^ (b2 >>> 15), 2654435761) ^ Math.imul(b1 ^ (b1 >>> 12), 668265263);
  out[0] = a1 >>> 0;
  out[1] = b1 >>> 0;
  // The 21 high bits of each 53-bit half, folded into one word.
  out[2] = ((a2 & 0x1fffff) ^ ((b2 & 0x1fffff) << 11)) >>> 0;
}
