/**
 * A Sluice broker as a child process on 127.0.0.1, started the way production
 * runs it (`node dist/src/main.js`, after `npm run build`) or from source
 * through tsx. Start time is measured from spawn to the "sluice listening"
 * log line.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { exited, track } from "./children.js";

export const REPO_ROOT = path.resolve(import.meta.dirname, "..");
const START_TIMEOUT_MS = 120_000;

/** How the broker is run: built JavaScript (as in production) or TypeScript through tsx. */
export type BrokerRuntime = "dist" | "tsx";

export interface SluiceBrokerOptions {
  readonly dataDir: string;
  readonly fsync: "never" | "always";
  readonly runtime: BrokerRuntime;
  /** Write a V8 CPU profile of the broker into this directory (node --cpu-prof). */
  readonly cpuProfDir?: string;
  /** Reuse this port (after a restart). */
  readonly port?: number;
}

export class SluiceBroker {
  #stderr = "";

  private constructor(
    readonly child: ChildProcess,
    readonly options: SluiceBrokerOptions,
    /** Milliseconds from spawn to the listening line. */
    readonly startMs: number,
    readonly port: number,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Spawns a broker and resolves once it logged that it listens. */
  static async start(options: SluiceBrokerOptions): Promise<SluiceBroker> {
    // SLUICE_BENCH_BROKER_ROOT runs another checkout's broker (for before/after comparisons).
    const root = process.env["SLUICE_BENCH_BROKER_ROOT"] ?? REPO_ROOT;
    const entry = options.runtime === "dist" ? [path.join(root, "dist/src/main.js")] : ["--import", "tsx", "src/main.ts"];
    if (options.runtime === "dist" && !existsSync(entry[0]!)) {
      throw new Error("dist/src/main.js is missing: run `npm run build` (npm run bench does)");
    }
    const prof = options.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`] : [];
    const nodeFlags = (process.env["SLUICE_BENCH_NODE_FLAGS"] ?? "").split(" ").filter(Boolean);
    const args = [
      ...nodeFlags,
      ...prof,
      ...entry,
      "--host", "127.0.0.1",
      "--port", String(options.port ?? 0),
      "--data-dir", options.dataDir,
      "--fsync", options.fsync,
      "--log-level", "info",
    ];
    const t0 = performance.now();
    const child = track(spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] }));
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`broker did not listen within ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS);
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (!line.includes('"sluice listening"')) return;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`broker exited (${code ?? signal}) before listening: ${stderr}`));
      });
    });
    const b = new SluiceBroker(child, options, performance.now() - t0, port);
    child.stderr!.on("data", (s: string) => (b.#stderr += s));
    return b;
  }

  /** What the broker wrote to stderr since it listened. */
  get stderr(): string {
    return this.#stderr;
  }

  /** SIGTERM, then waits for the exit (which writes the CPU profile, if any). */
  async stop(): Promise<void> {
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 60_000);
    await exited(this.child);
    clearTimeout(timer);
  }

  /** Stops this broker and starts another on the same data dir and port; resolves with it. */
  async restart(): Promise<SluiceBroker> {
    await this.stop();
    return SluiceBroker.start({ ...this.options, port: this.port });
  }
}
