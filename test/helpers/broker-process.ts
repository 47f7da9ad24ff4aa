import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { type Clients, connect } from "./grpc-clients.js";

/** The repository root: the broker runs from here, as `npm start` does. */
export const REPO_ROOT = path.resolve(import.meta.dirname, "..", "..");

const START_TIMEOUT_MS = 20_000;

/** How a broker process ended. */
export interface Exit {
  /** The exit code, or null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Children and temp dirs still to clean up; see {@link cleanupBrokerProcesses}. */
const liveChildren = new Set<ChildProcess>();
const liveProcesses = new Set<BrokerProcess>();
/** "unexpected error" log lines of every broker started here, printed by cleanupBrokerProcesses(). */
const unexpectedErrors: string[] = [];
const tempDirs = new Set<string>();

/** A fresh temp directory, removed by {@link cleanupBrokerProcesses}. */
export async function tempDir(prefix = "sluice-proc-"): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

function spawnBroker(args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
  return child;
}

function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

/** gRPC clients with their own subchannels, so a restarted broker is not hidden behind an old connection's backoff. */
function connectFresh(address: string): Clients {
  return connect(address, { channel: { "grpc.use_local_subchannel_pool": 1 } });
}

/** What {@link BrokerProcess.start} runs. */
export interface BrokerProcessOptions {
  /** The data directory; a fresh temp dir when absent. */
  readonly dataDir?: string;
  /** The port; 0 (a free one) when absent. */
  readonly port?: number;
  /** More flags, e.g. `["--fsync", "always"]`. */
  readonly args?: readonly string[];
}

/**
 * The broker as a real child process: `node --import tsx src/main.ts` from
 * the repository root, on 127.0.0.1. {@link start} resolves once the broker
 * logged "sluice listening". Every process started here is killed, its
 * clients closed and every temp dir removed by {@link cleanupBrokerProcesses}.
 */
export class BrokerProcess {
  /** Parsed JSON log lines from stdout, in order (`{raw}` for other lines). */
  readonly logs: Array<Record<string, unknown>> = [];
  /** Resolves when the process exits. */
  readonly exited: Promise<Exit>;
  #port = 0;
  #stderr = "";
  #clients: Clients | undefined;
  #onLog: Array<(entry: Record<string, unknown>) => void> = [];

  private constructor(
    readonly child: ChildProcess,
    readonly dataDir: string,
    readonly args: readonly string[],
  ) {
    this.exited = exitOf(child);
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (this.#stderr += s));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { raw: line };
      }
      this.logs.push(entry);
      // The edge logs "unexpected error" (and answers INTERNAL) only for bugs: keep them for the test's output.
      if (entry["msg"] === "unexpected error") unexpectedErrors.push(line);
      for (const f of this.#onLog) f(entry);
    });
    liveProcesses.add(this);
  }

  /** Starts a broker and waits until it listens. Rejects with its output if it exits first. */
  static async start(options: BrokerProcessOptions = {}): Promise<BrokerProcess> {
    const dataDir = options.dataDir ?? path.join(await tempDir(), "data");
    const args = options.args ?? [];
    const child = spawnBroker(["--host", "127.0.0.1", "--port", String(options.port ?? 0), "--data-dir", dataDir, ...args]);
    const p = new BrokerProcess(child, dataDir, args);
    p.#port = await p.#listening();
    return p;
  }

  #listening(): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`broker did not start within ${START_TIMEOUT_MS} ms; stderr: ${this.#stderr}`)),
        START_TIMEOUT_MS,
      );
      this.#onLog.push((entry) => {
        if (entry["msg"] !== "sluice listening") return;
        clearTimeout(timer);
        resolve(entry["port"] as number);
      });
      void this.exited.then((exit) => {
        clearTimeout(timer);
        reject(
          new Error(
            `broker exited (code ${exit.code}, signal ${exit.signal}) before listening; ` +
              `stderr: ${this.#stderr}; stdout: ${JSON.stringify(this.logs)}`,
          ),
        );
      });
    });
  }

  /** The port it listens on. */
  get port(): number {
    return this.#port;
  }

  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  /** What the process wrote to stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** gRPC clients of this process, made on first use and closed when it is stopped or restarted. */
  get clients(): Clients {
    this.#clients ??= connectFresh(this.address);
    return this.#clients;
  }

  /** Sends `signal` right now (synchronously), e.g. inside a response callback. */
  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Sends SIGTERM and waits for the exit. */
  async stop(): Promise<Exit> {
    this.kill("SIGTERM");
    const exit = await this.exited;
    this.closeClients();
    return exit;
  }

  /** Closes this process's gRPC clients (their open streams end with an error). */
  closeClients(): void {
    this.#clients?.close();
    this.#clients = undefined;
  }

  /** Starts a new process on the same data dir and port, once this one has exited. */
  async restart(): Promise<BrokerProcess> {
    await this.exited;
    this.closeClients();
    return BrokerProcess.start({ dataDir: this.dataDir, port: this.#port, args: this.args });
  }
}

/** The outcome of a broker run that is expected to end by itself (e.g. `--help`). */
export interface Run extends Exit {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the broker with `args` and waits for it to exit on its own (killed after `timeoutMs`). */
export async function runBroker(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<Run> {
  const child = spawnBroker(args, env);
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const exit = await exitOf(child);
  clearTimeout(timer);
  // 'exit' may come before the pipes are drained.
  await Promise.all([onceClosed(child.stdout!), onceClosed(child.stderr!)]);
  return { ...exit, stdout, stderr };
}

function onceClosed(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve) => {
    if ((stream as { closed?: boolean }).closed) resolve();
    else stream.once("close", () => resolve());
  });
}

/**
 * Kills (SIGKILL) every broker process still running and removes every temp
 * dir made here. Call it from `afterEach`, so a failed test leaves nothing.
 */
export async function cleanupBrokerProcesses(): Promise<void> {
  // A test that saw INTERNAL fails on its own; this says why, with the broker's stack.
  for (const line of unexpectedErrors.splice(0)) console.error(`broker logged an unexpected error: ${line}`);
  for (const p of liveProcesses) p.closeClients();
  liveProcesses.clear();
  const children = [...liveChildren];
  for (const child of children) child.kill("SIGKILL");
  await Promise.all(children.map(exitOf));
  const dirs = [...tempDirs];
  tempDirs.clear();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
}
