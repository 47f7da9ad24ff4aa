import type { Storage } from "../storage/storage.js";
import type { Clock } from "./clock.js";
import type { DedupeIndex } from "./dedupe-index.js";
import type { Logger } from "./logger.js";
import type { PartitionLog } from "./partition-log.js";
import { findOffsetAtTime } from "./seek.js";
import type { Topic } from "./topic.js";
import { DEFAULT_RETENTION_MS } from "./types.js";

/** What the retention loop works on. */
export interface RetentionDeps {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The publish time of a stored record (the record codec's). */
  readonly publishTime: (value: Uint8Array) => number;
  /** The live topics, read at the start of each pass. */
  readonly topics: () => Iterable<Topic>;
  readonly dedupe: DedupeIndex;
  /** Time between the end of a pass and the start of the next. */
  readonly intervalMs: number;
}

/** Partitions looked at between two yields to the event loop. */
const PARTITIONS_PER_TURN = 256;

/**
 * The background loop that applies each topic's retention: it removes
 * records older than `max_age` or beyond `max_bytes` from the head of every
 * partition, moves the topic's groups past them (counted as skipped), and
 * forgets expired dedupe entries. One pass at a time; a pass yields to the
 * event loop between partitions and storage deletes in chunks, so publishes
 * keep flowing meanwhile.
 */
export class Retention {
  #chain: Promise<void> = Promise.resolve();
  /** A pass that was asked for and has not started yet. */
  #queued: Promise<void> | undefined;
  #cancelTimer: (() => void) | undefined;
  #stopped = false;
  /** The publish time of each log's first record, while its start stays put. */
  readonly #oldest = new WeakMap<PartitionLog, { start: bigint; timeMs: number }>();

  constructor(private readonly deps: RetentionDeps) {}

  /** Runs a pass now, then one every interval until {@link stop}. */
  start(): void {
    const loop = (): void => {
      this.#cancelTimer = undefined;
      void this.runNow().then(() => {
        if (!this.#stopped) this.#cancelTimer = this.deps.clock.setTimer(loop, this.deps.intervalMs);
      });
    };
    loop();
  }

  /**
   * Asks for a pass. Resolves once a pass that started after this call has
   * ended (at once when stopped). Never rejects: failures are logged.
   */
  runNow(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#queued !== undefined) return this.#queued;
    const queued = this.#chain.then(async () => {
      this.#queued = undefined;
      if (this.#stopped) return;
      try {
        await this.#pass();
      } catch (err) {
        this.deps.logger.warn({ err }, "retention pass failed");
      }
    });
    this.#queued = queued;
    this.#chain = queued;
    return queued;
  }

  /** Stops the loop; resolves once a pass in progress has given up. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    await this.#chain;
  }

  async #pass(): Promise<void> {
    const now = this.deps.clock.now();
    let visited = 0;
    for (const topic of [...this.deps.topics()]) {
      for (const log of [...topic.partitions]) {
        if (this.#stopped) return;
        if (topic.deleted) break;
        if (++visited % PARTITIONS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
        try {
          await this.#trim(topic, log, now);
        } catch (err) {
          this.deps.logger.warn({ err, topic: topic.name, partition: log.partition }, "retention failed for a partition");
        }
      }
    }
    this.deps.dedupe.expire(now);
  }

  /** Applies the topic's retention to one partition. */
  async #trim(topic: Topic, log: PartitionLog, now: number): Promise<void> {
    const start = log.start;
    let target = start;
    if (log.end > start) {
      const cutoff = now - (topic.meta.retentionMaxAgeMs || DEFAULT_RETENTION_MS);
      const oldest = await this.#oldestTime(log);
      if (oldest !== undefined && oldest < cutoff) {
        // Publish times never decrease within a partition: binary search.
        target = await findOffsetAtTime(log, cutoff, this.deps.publishTime);
      }
      const maxBytes = topic.meta.retentionMaxBytes;
      if (maxBytes > 0n) {
        const byBytes = await this.#byteTarget(topic, log, target, maxBytes);
        if (byBytes > target) target = byBytes;
      }
    }
    if (log.start !== start || topic.deleted) return; // changed underneath: next pass
    if (target > start) {
      // Readers must stop before the records go: move the start and the
      // groups first, so nothing reads (or leases) what is being deleted.
      log.start = target;
      for (const g of topic.groups.values()) g.trimmed(log.partition, target);
      await this.deps.storage.deleteRecords(topic.meta.id, log.partition, start, target);
      this.deps.logger.info(
        { topic: topic.name, partition: log.partition, removed: String(target - start), start: String(target) },
        "retention removed old messages",
      );
    } else {
      // A group created while an earlier pass moved the start may sit below it.
      for (const g of topic.groups.values()) g.trimmed(log.partition, start);
    }
  }

  /**
   * The offset below which records must go for the rest to fit in
   * `maxBytes`, assuming records of about equal size. Measured from `from`,
   * so removed records that LevelDB has not compacted away yet do not count.
   */
  async #byteTarget(topic: Topic, log: PartitionLog, from: bigint, maxBytes: bigint): Promise<bigint> {
    const count = log.end - from;
    if (count <= 0n) return from;
    const bytes = await this.deps.storage.partitionBytes(topic.meta.id, log.partition, from);
    if (BigInt(Math.floor(bytes)) <= maxBytes) return from;
    const excess = bytes - Number(maxBytes);
    const drop = BigInt(Math.ceil((Number(count) * excess) / bytes));
    return from + (drop < count ? drop : count);
  }

  /** The publish time of the log's first record; undefined when it is gone. */
  async #oldestTime(log: PartitionLog): Promise<number | undefined> {
    const cached = this.#oldest.get(log);
    if (cached !== undefined && cached.start === log.start) return cached.timeMs;
    const start = log.start;
    const [value] = await log.get([start]);
    if (value === undefined) return undefined;
    const timeMs = this.deps.publishTime(value);
    this.#oldest.set(log, { start, timeMs });
    return timeMs;
  }

}
