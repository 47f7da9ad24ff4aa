/** The command line of `npm run bench`. */
import { parseArgs } from "node:util";
import type { BrokerRuntime } from "./sluice-broker.js";

export const WORKLOADS = ["publish-batched", "publish-send-batch", "publish-single", "consume", "latency", "memory", "restart", "fsync"] as const;
export type Workload = (typeof WORKLOADS)[number];
export const PEERS = ["nats", "rabbitmq"] as const;
export type Peer = (typeof PEERS)[number];

export interface BenchOptions {
  readonly runs: number;
  readonly only: ReadonlySet<Workload>;
  readonly vs: readonly Peer[];
  readonly long: boolean;
  readonly sizes: readonly number[];
  readonly runtime: BrokerRuntime;
  /** Messages per batched-publish run, by payload size. */
  readonly publishCount: (size: number) => number;
  /** The consume backlog (and messages consumed per run). */
  readonly consumeCount: number;
  readonly singleSeconds: number;
  readonly latencySeconds: number;
  readonly cpuProfDir: string | undefined;
  readonly outDir: string;
  /** Messages on disk for the memory and restart rows (undefined: what the other workloads left; --long: 10M). */
  readonly backlog: number | undefined;
  /** Length of the --long soak. */
  readonly soakMinutes: number;
  /** Publishers give every message an id (the client's default), which the broker dedupes. */
  readonly messageIds: boolean;
  /** Also drive Sluice with the Go load generator (bench/go), as extra "Go client" rows. */
  readonly goClient: boolean;
  /** Also a Go client consume+ack row (off by default: it adds about a minute per size). */
  readonly goConsume: boolean;
  /** Partitions of every topic Sluice's rows use (messages without keys are spread over them). */
  readonly partitions: number;
}

export const USAGE = `Usage: npm run bench -- [options]

Starts a fresh Sluice broker (and, with --vs, its peers) on 127.0.0.1 and a
temp dir, runs the workloads, prints a table and writes JSON to bench/results/.

  --runs N            runs per figure; the table shows medians (default 3)
  --only LIST         comma-separated: ${WORKLOADS.join(", ")}
  --vs PEER           compare with nats (JetStream) or rabbitmq; repeatable
  --long              10M-message backlog for memory/restart, plus a 10-minute soak
  --sizes LIST        payload sizes in bytes (default 100,1024)
  --broker RUNTIME    dist (built JS, as in production; default) or tsx (from source)
  --publish-count N   messages per batched-publish run (default 1000000 for 100 B, 500000 for 1 KiB)
  --consume-count N   backlog consumed per consume run (default 1000000)
  --seconds N         length of each single-publish run (default 3) and latency run (default 5)
  --cpu-prof DIR      write V8 CPU profiles of the Sluice broker to DIR
  --backlog N         messages on disk for memory/restart (default: what the run left; 10000000 with --long)
  --soak-minutes N    length of the --long soak (default 10)
  --no-message-ids    publishers set no message ids (no broker dedupe work), as peers' tools do
  --go / --no-go      add (or skip) Sluice publish rows driven by the Go client (bench/go, built with
                      \`go build\`); on by default with --vs nats, to compare like with \`nats bench\`
  --go-consume        add a consume+ack row driven by the Go client (about a minute more per size)
  --partitions N      partitions of the topics Sluice's rows use (default 1); publishers
                      send no keys, so the broker spreads messages over them
  --out DIR           where the JSON goes (default bench/results)
`;

export function parseOptions(argv: string[]): BenchOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      help: { type: "boolean" },
      runs: { type: "string" },
      only: { type: "string" },
      vs: { type: "string", multiple: true },
      long: { type: "boolean" },
      sizes: { type: "string" },
      broker: { type: "string" },
      "publish-count": { type: "string" },
      "consume-count": { type: "string" },
      seconds: { type: "string" },
      "cpu-prof": { type: "string" },
      out: { type: "string" },
      "no-message-ids": { type: "boolean" },
      go: { type: "boolean" },
      "no-go": { type: "boolean" },
      "go-consume": { type: "boolean" },
      backlog: { type: "string" },
      "soak-minutes": { type: "string" },
      partitions: { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return "help";
  const int = (name: string, text: string | undefined, def: number, min = 1): number => {
    if (text === undefined) return def;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}; got ${text}`);
    return n;
  };
  const list = <T extends string>(name: string, text: string | undefined, allowed: readonly T[]): T[] | undefined => {
    if (text === undefined) return undefined;
    const items = text.split(",").map((s) => s.trim()).filter(Boolean);
    for (const i of items) if (!allowed.includes(i as T)) throw new Error(`--${name}: unknown ${JSON.stringify(i)}; one of ${allowed.join(", ")}`);
    return items as T[];
  };
  const runtime = values.broker ?? "dist";
  if (runtime !== "dist" && runtime !== "tsx") throw new Error(`--broker must be dist or tsx; got ${runtime}`);
  const publishCount = values["publish-count"] === undefined ? undefined : int("publish-count", values["publish-count"], 0);
  const seconds = values.seconds === undefined ? undefined : int("seconds", values.seconds, 0);
  const vs = [...new Set((values.vs ?? []).flatMap((v) => list("vs", v, PEERS) ?? []))];
  if (values.go && values["no-go"]) throw new Error("--go and --no-go contradict each other");
  // The Go rows matter next to `nats bench` (Go); alone they would push the default run past 5 minutes.
  const goClient = values.go ?? (values["no-go"] ? false : vs.includes("nats"));
  return {
    runs: int("runs", values.runs, 3),
    only: new Set(list("only", values.only, WORKLOADS) ?? WORKLOADS),
    vs,
    long: values.long ?? false,
    sizes: values.sizes === undefined ? [100, 1024] : values.sizes.split(",").map((s) => int("sizes", s, 0, 8)),
    runtime,
    publishCount: (size) => publishCount ?? (size <= 256 ? 1_000_000 : 500_000),
    consumeCount: int("consume-count", values["consume-count"], 1_000_000),
    singleSeconds: seconds ?? 3,
    latencySeconds: seconds ?? 5,
    cpuProfDir: values["cpu-prof"],
    outDir: values.out ?? "bench/results",
    messageIds: !(values["no-message-ids"] ?? false),
    goClient,
    goConsume: goClient && (values["go-consume"] ?? false),
    backlog: values.backlog === undefined ? (values.long ? 10_000_000 : undefined) : int("backlog", values.backlog, 1),
    soakMinutes: int("soak-minutes", values["soak-minutes"], 10),
    partitions: int("partitions", values.partitions, 1),
  };
}
