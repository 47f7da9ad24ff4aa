import type { Group, GroupDeps } from "./group.js";
import type { GroupPartition } from "./group-partition.js";
import type { Notifier } from "./notifier.js";
import type { DeadLetterReason } from "./types.js";

/** The pause before publishing a dead letter again after a failure. */
const RETRY_MS = 1000;

/**
 * Dead-letters a group's messages: each is published to the dead-letter
 * topic (or dropped when the group has none) and then counts as
 * acknowledged. Until then it sits in its partition's `deadLettering`
 * holding its key, so an ordered group's later messages of that key wait;
 * a failed publish is retried until it succeeds, the message is acked, the
 * partition is reset or the group is deleted.
 */
export class DeadLettering {
  constructor(
    private readonly group: Group,
    private readonly deps: GroupDeps,
    private readonly changed: Notifier,
  ) {}

  /** Starts dead-lettering the message at `offset` of `gp`, delivered `attempts` times. */
  start(gp: GroupPartition, offset: bigint, attempts: number, key: string, reason: DeadLetterReason): void {
    gp.deadLettering.set(offset, key);
    this.deps.deadLetter({ group: this.group, gp, offset, attempts, reason }).then(
      (published) => {
        // Acked meanwhile, or the group was reset: nothing more to do.
        if (gp.deadLettering.get(offset) !== key || this.group.deleted) return;
        gp.deadLettering.delete(offset);
        gp.acks.add(offset);
        gp.settled(offset);
        if (published) gp.deadLettered++;
        else gp.dropped++;
        gp.releaseKey(key, offset, this.deps.clock.now());
        gp.dirty = true;
        this.deps.persist(this.group, false);
        this.changed.notify();
      },
      (err: unknown) => {
        if (gp.deadLettering.get(offset) !== key || this.group.deleted) return;
        this.deps.onError(err, "dead-lettering");
        // Try again later; the message keeps its key meanwhile, so order holds.
        this.deps.clock.setTimer(() => {
          if (!this.group.deleted && gp.deadLettering.get(offset) === key) this.start(gp, offset, attempts, key, reason);
        }, RETRY_MS);
      },
    );
  }
}
