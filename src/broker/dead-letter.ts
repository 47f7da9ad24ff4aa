import type { GroupPartition } from "./group-partition.js";
import type { Group } from "./group.js";
import type { RecordCodec } from "./record-codec.js";
import type { DeadLetterReason, PublishInput, PublishResult } from "./types.js";

/** A message to dead-letter, as the group hands it to the broker. */
export interface DeadLetter {
  readonly group: Group;
  readonly gp: GroupPartition;
  readonly offset: bigint;
  readonly attempts: number;
  readonly reason: DeadLetterReason;
}

/** Headers a dead-lettered message carries, naming where it came from. */
export const DEAD_LETTER_HEADERS = {
  topic: "sluice-original-topic",
  partition: "sluice-original-partition",
  offset: "sluice-original-offset",
  group: "sluice-original-group",
  attempts: "sluice-attempts",
  reason: "sluice-dead-letter-reason",
} as const;

/**
 * Publishes the message `d` names to its group's dead-letter topic, with
 * the original key, payload and headers plus {@link DEAD_LETTER_HEADERS}, and
 * a message id made of its position and group, so that a retry after a lost
 * answer is a duplicate within the target's dedupe window. Resolves to false,
 * publishing nothing, when the group has no dead-letter topic or retention
 * removed the record meanwhile; rejects with what `publish` rejects with.
 */
export async function publishDeadLetter(
  d: DeadLetter,
  codec: RecordCodec,
  publish: (topic: string, messages: readonly PublishInput[]) => Promise<PublishResult[]>,
): Promise<boolean> {
  const target = d.group.meta.deadLetterTopic;
  if (target === "") return false;
  const [value] = await d.gp.log.get([d.offset]);
  if (value === undefined) return false; // removed by retention meanwhile
  const m = codec.decode(value);
  const topic = d.group.topic.name;
  await publish(target, [
    {
      key: m.key,
      payload: m.payload,
      messageId: `${topic}/${d.gp.partition}/${d.offset}/${d.group.name}`,
      headers: {
        ...m.headers,
        [DEAD_LETTER_HEADERS.topic]: topic,
        [DEAD_LETTER_HEADERS.partition]: String(d.gp.partition),
        [DEAD_LETTER_HEADERS.offset]: String(d.offset),
        [DEAD_LETTER_HEADERS.group]: d.group.name,
        [DEAD_LETTER_HEADERS.attempts]: String(d.attempts),
        [DEAD_LETTER_HEADERS.reason]: d.reason,
      },
    },
  ]);
  return true;
}
