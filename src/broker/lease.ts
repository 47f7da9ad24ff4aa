import type { GroupPartition } from "./group-partition.js";
import type { Subscription } from "./subscription.js";

/** A message leased to one subscription until `deadline`. */
export interface Lease {
  readonly gp: GroupPartition;
  readonly offset: bigint;
  readonly attempt: number;
  /** The message's key when its group is ordered (it holds the key), else "". */
  readonly key: string;
  readonly holder: Subscription;
  /** Milliseconds since the epoch. */
  deadline: number;
}
