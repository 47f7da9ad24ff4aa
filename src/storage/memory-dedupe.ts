/**
 * Dedupe entries for {@link MemoryStorage}, per topic in the order
 * LevelStorage keeps them: by time, then by the message id's UTF-8 bytes.
 */

import type { DedupeRecord } from "./storage.js";

function compare(a: DedupeRecord, b: DedupeRecord): number {
  return a.timeMs - b.timeMs || Buffer.compare(Buffer.from(a.messageId), Buffer.from(b.messageId));
}

/** The dedupe entries of every topic. Stores the records it is given. */
export class MemoryDedupeEntries {
  readonly #byTopic = new Map<number, DedupeRecord[]>();

  /** Adds an entry, replacing one of the same topic, time and id. */
  put(record: DedupeRecord): void {
    let list = this.#byTopic.get(record.topicId);
    if (list === undefined) this.#byTopic.set(record.topicId, (list = []));
    // Entries arrive in time order almost always: search from the end.
    let i = list.length;
    while (i > 0 && compare(list[i - 1]!, record) > 0) i--;
    if (i > 0 && compare(list[i - 1]!, record) === 0) list[i - 1] = record;
    else list.splice(i, 0, record);
  }

  /** See `Storage.loadDedupe`. */
  load(since: ReadonlyMap<number, number>): DedupeRecord[] {
    const topics = [...since.keys()].sort((a, b) => a - b);
    return topics.flatMap((topicId) => (this.#byTopic.get(topicId) ?? []).filter((r) => r.timeMs >= since.get(topicId)!));
  }

  /** Removes the topic's entries before `beforeMs` (all of them when undefined). */
  deleteBefore(topicId: number, beforeMs?: number): void {
    const list = this.#byTopic.get(topicId);
    if (list === undefined) return;
    const kept = beforeMs === undefined ? [] : list.filter((r) => r.timeMs >= beforeMs);
    if (kept.length === 0) this.#byTopic.delete(topicId);
    else this.#byTopic.set(topicId, kept);
  }
}
