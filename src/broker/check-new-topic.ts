import { BrokerError } from "./broker-error.js";
import { checkName } from "./names.js";
import { checkDedupeWindow } from "./topic-update.js";
import type { BrokerLimits, TopicSettings } from "./types.js";

/**
 * Checks a request to create topic `name` on a broker that has `existing`
 * topics and is creating `creating` more; `taken` says whether the name is
 * one of them. Checks, in order: the name and partition count
 * (invalid-argument), `taken` (already-exists), --max-topics
 * (resource-exhausted), the dedupe window (invalid-argument).
 * @throws BrokerError at the first that fails
 */
export function checkNewTopic(
  name: string,
  settings: TopicSettings,
  limits: BrokerLimits,
  taken: boolean,
  existing: number,
  creating: number,
): void {
  checkName("topic", name);
  const { partitions } = settings;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > limits.maxPartitions) {
    throw new BrokerError(
      "invalid-argument",
      `partitions must be between 1 and ${limits.maxPartitions} (--max-partitions); got ${partitions}`,
    );
  }
  if (taken) throw new BrokerError("already-exists", `topic ${name} already exists`);
  if (existing + creating >= limits.maxTopics) {
    throw new BrokerError(
      "resource-exhausted",
      `the broker has ${existing} topics, the limit set by --max-topics is ${limits.maxTopics}`,
    );
  }
  checkDedupeWindow(settings.dedupeWindowMs);
}
