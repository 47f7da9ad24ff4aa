/**
 * What GetGroup reports about a group beyond its settings, built on request
 * only, never kept up to date on the delivery path.
 */

import type { GroupPartition } from "./group-partition.js";

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
    for (const [key, p] of gp.parked) {
      count++;
      if (p.since < since) {
        since = p.since;
        oldest = key;
      }
    }
  }
  return { count, oldest };
}
