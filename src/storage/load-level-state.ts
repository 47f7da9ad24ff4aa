/**
 * Reading the metadata and group states of a {@link LevelStorage} at start.
 */

import { decodeGroupPartitionState } from "./group-state-codec.js";
import { toStorageError } from "./level-errors.js";
import { GROUP_STATE_RANGE, META_RANGE, keyHex, parseGroupStateKey, parseMetaKey } from "./level-keys.js";
import type { LevelDb } from "./level-write-batch.js";
import { decodeGroupMeta, decodeNextIds, decodeTopicMeta } from "./meta-codec.js";
import { type GroupMeta, type GroupPartitionState, StorageError, type StoredState, type TopicMeta } from "./storage.js";

/**
 * Loads all metadata and group states of `db`, topics and groups in id
 * order, reading only the metadata and group state keyspaces, never the
 * log. The id counters are 1 when never set. Metadata keys this version does
 * not know are skipped with a warning to `logger`. Rejects with
 * {@link StorageError}: `corrupt` when a stored value or group state key
 * cannot be decoded, else what reading failed with.
 */
export async function loadLevelState(db: LevelDb, logger: { warn(obj: object, msg: string): void } | undefined): Promise<StoredState> {
  let meta: [Uint8Array, Uint8Array][];
  let states: [Uint8Array, Uint8Array][];
  try {
    [meta, states] = await Promise.all([db.iterator(META_RANGE).all(), db.iterator(GROUP_STATE_RANGE).all()]);
  } catch (err) {
    throw toStorageError(err, "loading state");
  }
  const topics: TopicMeta[] = [];
  const groups: GroupMeta[] = [];
  let nextIds = { nextTopicId: 1, nextGroupId: 1 };
  for (const [key, value] of meta) {
    const parsed = parseMetaKey(key);
    switch (parsed?.kind) {
      case "topic":
        topics.push(decodeTopicMeta(value));
        break;
      case "group":
        groups.push(decodeGroupMeta(value));
        break;
      case "next-ids":
        nextIds = decodeNextIds(value);
        break;
      case "format":
      case "deleted-topic":
      case "dedupe-snapshot":
        break;
      case undefined:
        // Only a newer version would write one, and it would change the marker.
        logger?.warn({ key: keyHex(key) }, "ignoring an unknown metadata key");
    }
  }
  const groupPartitions = new Map<string, GroupPartitionState>();
  for (const [key, value] of states) {
    const parsed = parseGroupStateKey(key);
    if (parsed === undefined) throw new StorageError("corrupt", `malformed group state key ${keyHex(key)}`);
    groupPartitions.set(`${parsed.groupId}/${parsed.partition}`, decodeGroupPartitionState(value));
  }
  return { topics, groups, groupPartitions, ...nextIds };
}
