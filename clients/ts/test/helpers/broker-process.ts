import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The repository root: the broker runs from there, as `npm start` does. */
const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));

/** A broker child process on 127.0.0.1 with its own data directory. */
export interface BrokerProcess {
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  /** The port it listens on; a restart listens on the same one. */
  readonly port: number;
  /** The data directory, kept across restarts, removed by `stop()`. */
  readonly dataDir: string;
  /** Kills the process with SIGKILL (a crash) and waits for it to exit. */
  kill(): Promise<void>;
  /** Stops the process with SIGTERM (a graceful shutdown) and waits for it to exit; keeps the data. */
  terminate(): Promise<void>;
  /** Starts the broker again on the same port and data directory; resolves once it listens. */
  restart(): Promise<void>;
  /** SIGTERM, waits for exit, removes the data directory. */
  stop(): Promise<void>;
  /** The broker's stdout and stderr so far, for failure messages. */
  output(): string;
}

/**
 * Starts `node --import tsx src/main.ts` on 127.0.0.1 with a fresh temporary
 * data directory (and `args`, e.g. TLS flags) and resolves once it logs
 * `"sluice listening"` (with the port it bound); rejects if it exits first.
 */
export async function startBroker(args: readonly string[] = []): Promise<BrokerProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), "sluice-client-test-"));
  let log = "";
  let child: ChildProcess | undefined;

  const launch = async (port: number): Promise<number> => {
    const proc = spawn(
      process.execPath,
      ["--import", "tsx", "src/main.ts", "--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDir, ...args],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
    );
    child = proc;
    proc.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
    const lines = createInterface({ input: proc.stdout! });
    return new Promise<number>((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null): void =>
        reject(new Error(`broker exited (${code ?? signal}) before listening:\n${log}`));
      proc.once("exit", onExit);
      lines.on("line", (line) => {
        log += line + "\n";
        let entry: { msg?: unknown; port?: unknown };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          return;
        }
        if (entry.msg === "sluice listening" && typeof entry.port === "number") {
          proc.off("exit", onExit);
          resolve(entry.port);
        }
      });
    });
  };

  const exited = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const done = once(proc, "exit");
    proc.kill(signal);
    await done;
  };

  const port = await launch(0);
  return {
    address: `127.0.0.1:${port}`,
    port,
    dataDir,
    kill: () => exited("SIGKILL"),
    terminate: () => exited("SIGTERM"),
    restart: async () => {
      await launch(port);
    },
    stop: async () => {
      await exited("SIGTERM");
      await rm(dataDir, { recursive: true, force: true });
    },
    output: () => log,
  };
}
