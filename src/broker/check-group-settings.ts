import { BrokerError } from "./broker-error.js";
import { checkName } from "./names.js";
import { DEFAULT_GROUP_SETTINGS, type GroupSettings, MAX_ACK_DEADLINE_MS, MIN_ACK_DEADLINE_MS } from "./types.js";

/**
 * Checks the settings a group of topic `topicName` is to have, and returns
 * them with an ack deadline of 0 replaced by the default. `topicOf` looks up
 * the dead-letter topic and throws not-found when it does not exist.
 * @throws invalid-argument naming the first bad field; not-found from `topicOf`
 */
export function checkGroupSettings(s: GroupSettings, topicName: string, topicOf: (name: string) => unknown): GroupSettings {
  const ackDeadlineMs = s.ackDeadlineMs === 0 ? DEFAULT_GROUP_SETTINGS.ackDeadlineMs : checkDeadline(s.ackDeadlineMs, "ack_deadline");
  const { retryBackoffMinMs: min, retryBackoffMaxMs: max } = s;
  if (min < 0 || max < 0 || min > MAX_ACK_DEADLINE_MS || max > MAX_ACK_DEADLINE_MS || max < min) {
    throw new BrokerError("invalid-argument", `retry_backoff needs 0 <= min <= max <= 600s; got min ${min / 1000}s, max ${max / 1000}s`);
  }
  if (!Number.isInteger(s.maxDeliveries) || s.maxDeliveries < 0) {
    throw new BrokerError("invalid-argument", `max_deliveries must be 0 (unlimited) or more; got ${s.maxDeliveries}`);
  }
  if (s.deadLetterTopic !== "") {
    checkName("topic", s.deadLetterTopic);
    if (s.deadLetterTopic === topicName) {
      throw new BrokerError("invalid-argument", `dead_letter_topic must differ from the group's topic ${topicName}`);
    }
    topicOf(s.deadLetterTopic); // throws not-found, naming it
  }
  return { ...s, ackDeadlineMs };
}

/**
 * Returns `ms` when it is a lease deadline the broker accepts (1 s to 600 s).
 * @throws invalid-argument naming `field` otherwise
 */
export function checkDeadline(ms: number, field: string): number {
  if (!Number.isFinite(ms) || ms < MIN_ACK_DEADLINE_MS || ms > MAX_ACK_DEADLINE_MS) {
    throw new BrokerError("invalid-argument", `${field} must be between 1s and 600s; got ${ms / 1000}s`);
  }
  return ms;
}
