import type { TopicMeta } from "../storage/storage.js";
import type { PartitionLog } from "./partition-log.js";
import type { Group } from "./group.js";

/** A topic at run time: its metadata, partition logs and groups. */
export class Topic {
  readonly groups = new Map<string, Group>();
  /** Set once the topic is deleted; holders of a reference must stop. */
  deleted = false;
  /** Round-robin position for messages with neither key nor partition. */
  #spread = 0;

  constructor(
    public meta: TopicMeta,
    readonly partitions: PartitionLog[],
  ) {}

  get name(): string {
    return this.meta.name;
  }

  /** The next partition for a message with neither key nor partition. */
  nextSpreadPartition(): number {
    const p = this.#spread;
    this.#spread = (p + 1) % this.partitions.length;
    return p;
  }

  /** Tells every group that partition `p` grew. */
  appended(p: number): void {
    for (const g of this.groups.values()) g.appended(p);
  }
}
