/**
 * Dedupe entries of {@link LevelStorage}: loading them at start and deleting
 * expired ones. Keys are ordered by time within a topic (see `level-keys.ts`),
 * so both are range operations.
 */

import { DEDUPE_RANGE, decodeDedupeValue, dedupeRange, keyHex, parseDedupeKey } from "./level-keys.js";
import { purgeRange } from "./level-ranges.js";
import type { LevelDb } from "./level-write-batch.js";
import { type DedupeRecord, StorageError } from "./storage.js";

/** Entries read per step when loading. */
const LOAD_STEP = 1000;

/**
 * Reads every dedupe entry once, in key order (topic, then time), keeping
 * those of the topics in `since` at or after the topic's time. One scan of
 * the keyspace instead of a seek per topic: the keyspace holds little beyond
 * the live entries, because expired ones are deleted in the background.
 * Rejects with `corrupt` on an entry this version did not write.
 */
export async function loadDedupeEntries(db: LevelDb, since: ReadonlyMap<number, number>): Promise<DedupeRecord[]> {
  const out: DedupeRecord[] = [];
  if (since.size === 0) return out;
  const iterator = db.iterator(DEDUPE_RANGE);
  try {
    for (;;) {
      const entries = await iterator.nextv(LOAD_STEP);
      if (entries.length === 0) return out;
      for (const [key, value] of entries) {
        const parsed = parseDedupeKey(key);
        const position = decodeDedupeValue(value);
        if (parsed === undefined || position === undefined) {
          throw new StorageError("corrupt", `malformed dedupe entry ${keyHex(key)}`);
        }
        const from = since.get(parsed.topicId);
        if (from === undefined || parsed.timeMs < from) continue;
        out.push({ ...parsed, ...position });
      }
    }
  } finally {
    await iterator.close();
  }
}

/** Deletes the topic's dedupe entries older than `beforeMs` (or all of them). */
export function deleteDedupeEntries(db: LevelDb, topicId: number, beforeMs?: number): Promise<void> {
  return purgeRange(db, dedupeRange(topicId, 0, beforeMs));
}
