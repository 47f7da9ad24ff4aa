import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { repoRoot } from "./paths.js";

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/**
 * A real broker process: `node --import tsx src/main.ts` from the repository
 * root on 127.0.0.1, port 0 and a fresh temporary data directory. `start`
 * resolves once the broker logged `"msg":"sluice listening"` with its port.
 */
export class BrokerProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly output: string[],
    private readonly dataDir: string,
    readonly address: string,
    private readonly exited: Promise<void>,
  ) {}

  static async start(): Promise<BrokerProcess> {
    const dataDir = await mkdtemp(path.join(tmpdir(), "sluice-interop-"));
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "src/main.ts", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
    );
    const output: string[] = [];
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    const lines = createInterface({ input: child.stdout! });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      lines.on("line", (line) => {
        output.push(`${line}\n`);
        const entry = parseJson(line);
        if (entry?.msg === "sluice listening" && typeof entry.port === "number") {
          clearTimeout(timer);
          resolve(entry.port);
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error("the broker exited before listening"));
      });
    }).catch(async (err: Error) => {
      child.kill("SIGKILL");
      await exited;
      await rm(dataDir, { recursive: true, force: true });
      throw new Error(`${err.message}:\n${output.join("")}`);
    });
    return new BrokerProcess(child, output, dataDir, `127.0.0.1:${port}`, exited);
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What the broker printed. */
  get log(): string {
    return this.output.join("");
  }

  /** SIGTERM, then SIGKILL after 10 s; removes the data directory. */
  async stop(): Promise<void> {
    if (this.alive) {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
