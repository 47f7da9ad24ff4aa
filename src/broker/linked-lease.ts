import type { GroupPartition } from "./group-partition.js";
import type { Lease } from "./lease.js";
import type { TimelineBucket } from "./lease-timeline.js";
import type { Subscription } from "./subscription.js";

/**
 * A lease as the group keeps it: besides the {@link Lease} fields, the links
 * that put it in its holder's list ({@link HeldLeases}) and in its deadline
 * bucket ({@link LeaseTimeline}). Intrusive links instead of two `Set`s:
 * leasing and acking a message then touch no hash table but the partition's
 * `inFlight` map, and hold no set entries for the garbage collector.
 * The links belong to those two classes; nothing else writes them.
 */
export interface LinkedLease extends Lease {
  heldPrev: LinkedLease | null;
  heldNext: LinkedLease | null;
  timePrev: LinkedLease | null;
  timeNext: LinkedLease | null;
  /** The timeline bucket it is linked into, or null. */
  slot: TimelineBucket | null;
}

/** A new lease, linked into nothing yet. */
export function newLease(gp: GroupPartition, offset: bigint, attempt: number, key: string, holder: Subscription, deadline: number): LinkedLease {
  return { gp, offset, attempt, key, holder, deadline, heldPrev: null, heldNext: null, timePrev: null, timeNext: null, slot: null };
}
