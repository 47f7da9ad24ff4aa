import type { StoredRecord } from "../storage/storage.js";
import { BrokerError } from "./broker-error.js";
import type { Clock } from "./clock.js";
import type { DedupeIndex } from "./dedupe-index.js";
import type { Logger } from "./logger.js";
import { partitionForKey } from "./partitioner.js";
import type { RecordCodec } from "./record-codec.js";
import { fromStorageError } from "./storage-errors.js";
import type { Topic } from "./topic.js";
import type { PublishBudget } from "./publish-budget.js";
import type { PublishInput, PublishResult } from "./types.js";
import type { WriteQueue } from "./write-queue.js";

/** What the publish path needs. */
export interface PublishPipelineDeps {
  readonly writes: WriteQueue;
  readonly codec: RecordCodec;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly dedupe: DedupeIndex;
  readonly maxMessageBytes: number;
  /** Taken while a publish is accepted and not yet durable. */
  readonly budget: PublishBudget;
}

/** The value of a duplicate's record: never stored or committed. */
const NO_VALUE = new Uint8Array(0);

/**
 * The publish path: routes messages to partitions, and in the group-commit
 * batch assigns offsets and publish times, encodes each record once, and
 * drops repeats of message ids seen within the topic's dedupe window. Once
 * the batch is durable the records become visible to readers; if it fails,
 * offsets are rolled back so they stay dense.
 */
export class PublishPipeline {
  constructor(private readonly deps: PublishPipelineDeps) {}

  /**
   * Appends messages to `topic`. Resolves once they are durable, with one
   * result per message, in order. Throws (synchronously) invalid-argument
   * for an empty publish, an oversized message or a partition out of range.
   */
  publish(topic: Topic, messages: readonly PublishInput[]): Promise<PublishResult[]> {
    const parts = new Uint32Array(messages.length);
    const bytes = this.#route(topic, messages, parts);
    this.deps.budget.take(bytes);
    return new Promise((resolve, reject) => this.#submit(topic, messages, parts, bytes, resolve, reject));
  }

  /** Validates the messages and picks their partitions into `parts`; returns their bytes. */
  #route(topic: Topic, messages: readonly PublishInput[], parts: Uint32Array): number {
    if (messages.length === 0) throw new BrokerError("invalid-argument", "a publish needs at least one message");
    const n = topic.partitions.length;
    const max = this.deps.maxMessageBytes;
    let bytes = 0;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const size = this.deps.codec.size(m);
      if (size > max) {
        throw new BrokerError(
          "invalid-argument",
          `message ${i} is ${size} bytes (key, payload and headers); the limit set by --max-message-bytes is ${max}`,
        );
      }
      bytes += size;
      if (m.partition !== undefined) {
        if (m.partition >= n) {
          throw new BrokerError("invalid-argument", `message ${i} names partition ${m.partition}, but topic ${topic.name} has ${n} (0 to ${n - 1})`);
        }
        parts[i] = m.partition;
      } else if (m.key !== "") parts[i] = partitionForKey(m.key, n);
      else parts[i] = topic.nextSpreadPartition();
    }
    return bytes;
  }

  #submit(
    topic: Topic,
    messages: readonly PublishInput[],
    parts: Uint32Array,
    bytes: number,
    resolve: (r: PublishResult[]) => void,
    reject: (e: unknown) => void,
  ): void {
    const records: StoredRecord[] = new Array(messages.length);
    /** 1 where a message repeats an id seen within the dedupe window. */
    let duplicates: Uint8Array | undefined;
    /** 1 where this publish added the message's id to the index; withdrawn if its write fails. */
    let added: Uint8Array | undefined;
    this.deps.writes.submit({
      build: (batch) => {
        if (topic.deleted) throw new BrokerError("not-found", `topic ${topic.name} does not exist`);
        const now = this.deps.clock.now();
        const id = topic.meta.id;
        const windowMs = topic.meta.dedupeWindowMs;
        for (let i = 0; i < messages.length; i++) {
          const m = messages[i]!;
          // Batches are built one at a time, in order, after the previous one
          // is durable: an earlier publish of this id is either durable or in
          // this batch, and either way `find` sees it.
          const dedupe = windowMs > 0 && m.messageId !== "";
          if (dedupe) {
            const seen = this.deps.dedupe.find(id, m.messageId, windowMs, now);
            if (seen !== undefined) {
              (duplicates ??= new Uint8Array(messages.length))[i] = 1;
              parts[i] = seen.partition;
              records[i] = { offset: seen.offset, value: NO_VALUE };
              continue;
            }
          }
          const log = topic.partitions[parts[i]!]!;
          const offset = log.reserve(now);
          const value = this.deps.codec.encode(m, log.lastPublishTime);
          batch.appendRecord(id, log.partition, offset, value);
          records[i] = { offset, value };
          if (dedupe) {
            // No write of its own: the id is in the record, and the index is saved at shutdown.
            this.deps.dedupe.add(id, m.messageId, log.partition, offset, now);
            (added ??= new Uint8Array(messages.length))[i] = 1;
          }
        }
      },
      done: (err) => {
        this.deps.budget.give(bytes);
        if (err !== undefined) {
          for (const p of new Set(parts)) topic.partitions[p]!.rollback();
          if (added !== undefined) {
            for (let i = 0; i < added.length; i++) {
              if (added[i] === 1) this.deps.dedupe.withdraw(topic.meta.id, messages[i]!.messageId, parts[i]!, records[i]!.offset);
            }
          }
          if (!(err instanceof BrokerError)) this.deps.logger.error({ err, topic: topic.name }, "publish write failed");
          return reject(fromStorageError(err));
        }
        this.#commit(topic, parts, records, duplicates);
        resolve(
          records.map((r, i) =>
            duplicates?.[i] === 1
              ? { partition: parts[i]!, offset: r.offset, duplicate: true }
              : { partition: parts[i]!, offset: r.offset },
          ),
        );
      },
    });
  }

  /** Makes a durable publish visible, partition by partition, in offset order. */
  #commit(topic: Topic, parts: Uint32Array, records: StoredRecord[], duplicates: Uint8Array | undefined): void {
    if (topic.partitions.length === 1 && duplicates === undefined) {
      topic.partitions[0]!.commit(records);
      topic.appended(0);
      return;
    }
    const byPartition = new Map<number, StoredRecord[]>();
    for (let i = 0; i < records.length; i++) {
      if (duplicates?.[i] === 1) continue;
      const list = byPartition.get(parts[i]!);
      if (list) list.push(records[i]!);
      else byPartition.set(parts[i]!, [records[i]!]);
    }
    for (const [p, list] of byPartition) {
      topic.partitions[p]!.commit(list);
      topic.appended(p);
    }
  }
}
