import { BrokerProcess } from "../../helpers/broker-process.js";
import { AdminService, BrokerService, call, type Clients } from "../../helpers/grpc-clients.js";
import { TestSubscriber } from "../../helpers/test-subscriber.js";
import { AckConsumer } from "./ack-consumer.js";
import { checkCommittedMonotonic, checkGroup, checkLog, firstFew, type LogEntry } from "./checks.js";
import { History } from "./history.js";
import { PublishLoad, type PublishLoadOptions } from "./publish-load.js";
import { until } from "./wait.js";

/** The two groups every scenario consumes with: one plain, one key-ordered. */
export const GROUPS = [
  { name: "plain", ordered: false },
  { name: "ordered", ordered: true },
] as const;

/** What a {@link LoadScenario} runs. */
export interface ScenarioOptions {
  readonly topic: string;
  readonly partitions: number;
  readonly consumersPerGroup: number;
  readonly nackRate: number;
  readonly random: () => number;
  readonly load: Omit<PublishLoadOptions, "address" | "topic" | "random">;
  /** Extra broker flags. */
  readonly args?: readonly string[];
}

/**
 * A broker process under load from TypeScript-client publishers and
 * recording consumers of two groups, with GetGroup sampled in the
 * background. The test kills or stops the broker as it likes and calls
 * {@link restarted} after each new start; {@link finish} drains, stops and
 * checks everything against the broker's final state.
 */
export class LoadScenario {
  readonly history = new History();
  readonly consumers: AckConsumer[] = [];
  broker!: BrokerProcess;
  lifetime = 1;
  #load!: PublishLoad;
  #sampling = true;
  #sampler: Promise<void> = Promise.resolve();

  private constructor(readonly options: ScenarioOptions) {}

  static async start(options: ScenarioOptions): Promise<LoadScenario> {
    const s = new LoadScenario(options);
    s.broker = await BrokerProcess.start({ args: options.args ?? [] });
    const { admin } = s.broker.clients;
    await call(admin, AdminService.method.createTopic, {
      name: options.topic,
      partitions: options.partitions,
      // Resends come within seconds; a long window keeps dedupe out of the way of long soaks.
      dedupeWindow: { seconds: 3600n },
    });
    for (const g of GROUPS) {
      await call(admin, AdminService.method.createGroup, { topic: options.topic, group: g.name, settings: { ordered: g.ordered } });
      for (let i = 0; i < options.consumersPerGroup; i++) {
        s.consumers.push(
          new AckConsumer(s.history, {
            topic: options.topic,
            group: g.name,
            name: `${g.name}-${i}`,
            maxInFlight: 200,
            nackRate: options.nackRate,
            random: options.random,
          }),
        );
      }
    }
    await s.#attachAll();
    s.#sampler = s.#sample();
    s.#load = new PublishLoad(s.history, { ...options.load, address: s.broker.address, topic: options.topic, random: options.random });
    s.#load.start();
    return s;
  }

  /** Messages handed to the publishers so far. */
  get sent(): number {
    return this.#load.sent;
  }

  /** The broker was started again: consumers open streams on it. */
  async restarted(broker: BrokerProcess): Promise<void> {
    this.broker = broker;
    this.lifetime++;
    await this.#attachAll();
  }

  async #attachAll(): Promise<void> {
    const clients = this.broker.clients;
    const lifetime = this.lifetime;
    // A stream may fail to open when the broker dies meanwhile; the next life retries.
    await Promise.allSettled(this.consumers.map((c) => c.attach(clients, lifetime)));
  }

  /** GetGroup of both groups every 100 ms while the broker runs; failures (broker down) are skipped. */
  async #sample(): Promise<void> {
    while (this.#sampling) {
      const broker = this.broker;
      const lifetime = this.lifetime;
      for (const g of GROUPS) {
        try {
          const res = await call(broker.clients.admin, AdminService.method.getGroup, { topic: this.options.topic, group: g.name });
          this.history.samples.push({
            seq: this.history.next(),
            group: g.name,
            lifetime,
            committed: res.group!.partitions.map((p) => p.committedOffset),
          });
        } catch {
          // The broker is down or restarting.
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Stops publishing (waiting for every confirmation), waits until both
   * groups acked everything, stops the broker with SIGTERM (it must exit 0),
   * starts it once more, reads the log back and checks the history.
   * Returns the counts and every violation found.
   */
  async finish(): Promise<ScenarioResult> {
    await this.#load.stop();
    const { admin } = this.broker.clients;
    const topic = this.options.topic;
    for (const g of GROUPS) {
      await until(
        `group ${g.name} to ack everything`,
        () => call(admin, AdminService.method.getGroup, { topic, group: g.name }),
        (res) => res.group!.partitions.every((p) => p.lag === 0n && p.inFlight === 0),
        { timeoutMs: 60_000, intervalMs: 200 },
      );
    }
    this.#sampling = false;
    await this.#sampler;
    await Promise.all(this.consumers.map((c) => c.detach()));
    const exit = await this.broker.stop();
    const final = await this.broker.restart();
    this.broker = final;
    const log = await readLog(final.clients, topic);
    const topicInfo = await call(final.clients.admin, AdminService.method.getTopic, { name: topic });
    const ends = topicInfo.topic!.partitions.map((p) => p.endOffset);
    const starts = topicInfo.topic!.partitions.map((p) => p.startOffset);
    const dedupe = await brokerDeduplicates(final.clients);
    const logVerdict = checkLog(log, ends, this.history, dedupe);
    const violations = [...logVerdict.violations, ...checkCommittedMonotonic(this.history)];
    if (starts.some((s) => s !== 0n)) violations.push(`the log start moved: ${starts.join(",")}`);
    const groups: Record<string, { delivered: number; redelivered: number; committed: bigint[] }> = {};
    for (const g of GROUPS) {
      const v = checkGroup(g.name, log, this.history, g.ordered);
      violations.push(...v.violations);
      const state = await call(final.clients.admin, AdminService.method.getGroup, { topic, group: g.name });
      const committed = state.group!.partitions.map((p) => p.committedOffset);
      committed.forEach((c, p) => {
        if (c !== ends[p]) violations.push(`after the last restart ${g.name} partition ${p} is committed at ${c}, not at its end ${ends[p]}`);
      });
      groups[g.name] = { delivered: v.delivered, redelivered: v.redelivered, committed };
    }
    violations.push(...this.history.publishFailures.map((f) => `a publish failed: ${f}`));
    violations.push(...this.history.streamErrors.map((e) => `a stream failed: ${e}`));
    const counts = this.history.counts();
    return {
      violations,
      exit,
      dedupe,
      counts: {
        lifetimes: this.lifetime,
        sent: this.#load.sent,
        published: this.history.publishes.length,
        duplicateConfirmations: this.history.publishes.filter((p) => p.duplicate).length,
        stored: logVerdict.stored,
        storedCopies: logVerdict.duplicates,
        acksSent: counts.acksSent,
        acked: counts.acksConfirmed,
        delivered: Object.values(groups).reduce((n, g) => n + g.delivered, 0),
        redelivered: Object.values(groups).reduce((n, g) => n + g.redelivered, 0),
        lost: logVerdict.lost,
      },
    };
  }

  /** Kills everything this scenario started (for afterEach). */
  async abort(): Promise<void> {
    this.#sampling = false;
    for (const c of this.consumers) c.cancel();
    await this.#load?.stop().catch(() => undefined);
  }
}

/** The outcome of {@link LoadScenario.finish}. */
export interface ScenarioResult {
  readonly violations: string[];
  readonly exit: { code: number | null; signal: NodeJS.Signals | null };
  readonly dedupe: boolean;
  readonly counts: Record<string, number>;
}

/** Prints the counts and the first violations (the suite's summary lines). */
export function report(name: string, seed: number, r: ScenarioResult): void {
  const c = r.counts;
  console.log(
    `[faults] ${name} (seed ${seed}): ${c["lifetimes"]} broker lives; published ${c["published"]} ` +
      `(${c["duplicateConfirmations"]} confirmed as duplicates of a resend), stored ${c["stored"]} ` +
      `(${c["storedCopies"]} extra copies; dedupe ${r.dedupe ? "on: exactly once checked" : "absent: at least once checked"}), ` +
      `acked ${c["acked"]} confirmed of ${c["acksSent"]} sent, delivered ${c["delivered"]}, redelivered ${c["redelivered"]}, lost ${c["lost"]}` +
      (r.violations.length > 0 ? `\n[faults] violations:\n${firstFew(r.violations)}` : ""),
  );
}

/**
 * Reads the whole topic back through a fresh group, acking as it goes, so
 * any size fits the broker's in-flight limit.
 */
export async function readLog(clients: Clients, topic: string): Promise<LogEntry[]> {
  const t = await call(clients.admin, AdminService.method.getTopic, { name: topic });
  const total = Number(t.topic!.partitions.reduce((n, p) => n + (p.endOffset - p.startOffset), 0n));
  const CHUNK = 10_000;
  const sub = new TestSubscriber(clients, { topic, group: `audit-${Date.now()}`, maxInFlight: CHUNK });
  await sub.opened();
  const out: LogEntry[] = [];
  while (out.length < total) {
    const ds = await sub.take(Math.min(CHUNK, total - out.length), 30_000);
    for (const d of ds) out.push({ partition: d.message!.partition, offset: d.message!.offset, messageId: d.message!.messageId, key: d.message!.key });
    sub.ack(ds.map((d) => ({ partition: d.message!.partition, offset: d.message!.offset })));
  }
  sub.end();
  await sub.closed();
  return out;
}

/**
 * Whether the broker deduplicates publishes by message id: publishes one
 * message id twice to a probe topic and looks at the second answer.
 */
export async function brokerDeduplicates(clients: Clients): Promise<boolean> {
  const name = `dedupe-probe-${Date.now()}`;
  await call(clients.admin, AdminService.method.createTopic, { name, dedupeWindow: { seconds: 60n } });
  const enc = new TextEncoder();
  const publish = () =>
    call(clients.broker, BrokerService.method.publish, { topic: name, messages: [{ payload: enc.encode("x"), messageId: "probe" }] });
  const first = await publish();
  const second = await publish();
  await call(clients.admin, AdminService.method.deleteTopic, { name });
  return second.results[0]!.duplicate && second.results[0]!.offset === first.results[0]!.offset;
}
