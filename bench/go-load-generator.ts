/**
 * The Go load generator (bench/go): built with `go build` into a temp dir at
 * bench start, then run once per measured run against the broker. It drives
 * Sluice through the Go client, so that Sluice's rows can be read next to
 * `nats bench` (JetStream's Go client) with the client language held equal.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { tempDir } from "./children.js";
import { runTool } from "./peers/peer-process.js";
import { REPO_ROOT } from "./sluice-broker.js";

const run = promisify(execFile);
const SOURCE_DIR = path.join(REPO_ROOT, "bench", "go");

/** One run's figures, as the generator prints them. */
export interface GoRunResult {
  readonly mode: string;
  readonly count: number;
  readonly seconds: number;
  readonly msgPerSec: number;
}

/** A built generator; each method runs it once and resolves with msg/s. */
export class GoLoadGenerator {
  private constructor(
    readonly binary: string,
    /** `go version` of the toolchain that built it. */
    readonly goVersion: string,
    /** Give published messages ids (the broker dedupes them), as the TypeScript Publisher does by default. */
    readonly messageIds: boolean,
  ) {}

  /**
   * Builds bench/go with the `go` on PATH. Resolves with the generator, or
   * with a note saying why there is none (no Go, or the build failed);
   * never rejects.
   */
  static async build(messageIds: boolean): Promise<GoLoadGenerator | string> {
    let goVersion: string;
    try {
      goVersion = (await run("go", ["version"])).stdout.trim();
    } catch {
      return "Go client rows skipped: `go` is not on PATH (install Go 1.26 or later; --no-go turns the rows off)";
    }
    const binary = path.join(tempDir("sluice-bench-go-"), "sluice-bench-go");
    try {
      // A cold module and build cache can take minutes on 2 cores; later builds take seconds.
      await run("go", ["build", "-o", binary, "."], { cwd: SOURCE_DIR, timeout: 600_000 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      return `Go client rows skipped: \`go build\` in bench/go failed: ${(e.stderr || e.message).trim().slice(-1000)}`;
    }
    return new GoLoadGenerator(binary, goVersion, messageIds);
  }

  /**
   * `count` messages over one PublishStream through the generated stub, not
   * the Go client's Publisher: pipelined in batches as the TypeScript
   * Publisher sends them.
   */
  publishBatched(address: string, topic: string, size: number, count: number): Promise<number> {
    return this.#run(address, ["-mode", "batched", "-topic", topic, "-size", String(size), "-count", String(count), ...this.#ids()]);
  }

  /** `count` messages through one Go Publisher, in `SendBatch` calls of 1,000 with at most 100,000 messages in calls not yet returned. */
  publishSendBatch(address: string, topic: string, size: number, count: number): Promise<number> {
    return this.#run(address, ["-mode", "send-batch", "-topic", topic, "-size", String(size), "-count", String(count), ...this.#ids()]);
  }

  /** `callers` goroutines, each awaiting one unary Publish of one message at a time, for `seconds`. */
  publishUnary(address: string, topic: string, size: number, callers: number, seconds: number): Promise<number> {
    return this.#run(address, ["-mode", "unary", "-topic", topic, "-size", String(size), "-callers", String(callers), "-seconds", String(seconds), ...this.#ids()]);
  }

  /** `callers` goroutines sharing one Publisher (linger 0), each awaiting its own `Send` of one message at a time, for `seconds`. */
  publishViaPublisher(address: string, topic: string, size: number, callers: number, seconds: number): Promise<number> {
    return this.#run(address, ["-mode", "publisher", "-topic", topic, "-size", String(size), "-callers", String(callers), "-seconds", String(seconds), ...this.#ids()]);
  }

  /** `streams` subscriptions of a new `group` read `count` messages of the backlog from the earliest, acking each. */
  consumeAck(address: string, topic: string, group: string, streams: number, count: number): Promise<number> {
    return this.#run(address, ["-mode", "consume", "-topic", topic, "-group", group, "-streams", String(streams), "-count", String(count)]);
  }

  #ids(): string[] {
    return [`-ids=${this.messageIds}`];
  }

  async #run(address: string, args: string[]): Promise<number> {
    const out = await runTool(this.binary, ["-addr", address, ...args]);
    const line = out.split("\n").find((l) => l.startsWith('{"mode"'));
    if (line === undefined) throw new Error(`no result line from the Go load generator: ${out.slice(-1000)}`);
    return (JSON.parse(line) as GoRunResult).msgPerSec;
  }
}
