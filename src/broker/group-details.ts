/**
 * What GetGroup reports about a group beyond its settings: each partition's
 * state, the keys an ordered group holds back, and the connected consumers.
 * Built on request only, never kept up to date on the delivery path.
 */

import type { GroupPartition } from "./group-partition.js";
import type { Group } from "./group.js";
import type { ConsumerInfo, GroupPartitionInfo } from "./types.js";

/** A group's state in detail, as GetGroup reports it. */
export interface GroupDetails {
  /** In partition order. */
  readonly partitions: GroupPartitionInfo[];
  /** Ordered groups: keys with messages waiting for an earlier message of the key. */
  readonly blockedKeys: number;
  /** Of those, the key that has waited longest; "" when none waits. */
  readonly oldestBlockedKey: string;
  /** The streams connected now (not unary Fetch calls), in connection order. */
  readonly consumers: ConsumerInfo[];
}

/** The details of `group` now; see {@link GroupDetails}. */
export function groupDetails(group: Group): GroupDetails {
  const partitions = group.partitions.map(groupPartitionInfo);
  const { count, oldest } = blockedKeys(group.partitions);
  const consumers = [...group.consumers.values()].map(
    (c): ConsumerInfo => ({
      id: c.id,
      name: c.options.name,
      peer: c.options.peer,
      inFlight: c.leases.size,
      maxInFlight: c.options.maxInFlight,
      connectedAt: c.options.connectedAt,
    }),
  );
  return { partitions, blockedKeys: count, oldestBlockedKey: oldest, consumers };
}

/** One partition's state for its group, as GetGroup reports it. */
export function groupPartitionInfo(gp: GroupPartition): GroupPartitionInfo {
  // Messages at or above the committed offset not yet acknowledged.
  const lag = gp.log.end - gp.acks.floor - gp.acks.ackedAbove;
  let pendingRedelivery = 0;
  // Parked messages freed by their key wait with attempt 0: not redeliveries.
  for (const w of gp.waiting.values()) if (w.attempt > 0) pendingRedelivery++;
  return {
    partition: gp.partition,
    committed: gp.acks.floor,
    end: gp.log.end,
    lag: lag > 0n ? lag : 0n,
    inFlight: gp.inFlight.size,
    ackedAbove: gp.acks.ackedAbove,
    pendingRedelivery,
    nextRedeliveryAt: gp.nextDue(),
    deadLettered: gp.deadLettered,
    dropped: gp.dropped,
    skipped: gp.skipped,
  };
}

/**
 * For an ordered group's partitions: how many keys have messages waiting
 * for an earlier message of the key, and the key that has waited longest
 * ("" when none waits). A key counts once per partition it waits in.
 */
export function blockedKeys(partitions: readonly GroupPartition[]): { count: number; oldest: string } {
  let count = 0;
  let oldest = "";
  let since = Infinity;
  for (const gp of partitions) {
    for (const [key, p] of gp.keys.parked) {
      count++;
      if (p.since < since) {
        since = p.since;
        oldest = key;
      }
    }
  }
  return { count, oldest };
}
