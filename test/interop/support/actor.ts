import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { goActorBinary } from "./go-actor.js";
import { python, pythonActor, repoRoot } from "./paths.js";

/** One JSON line an actor printed. */
export interface ActorEvent {
  event: "published" | "subscribed" | "message" | "closed";
  partition?: number;
  offset?: number;
  payload?: string;
  key?: string;
  headers?: Record<string, string>;
  messageId?: string;
  attempt?: number;
  received?: number;
  consumerId?: string;
}

export type Language = "python" | "go";

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * A Python or Go client process of the suite (test/interop/actors). Its
 * stdout is one JSON event per line; `waitFor` resolves on an event, and
 * rejects when the process exits first or the timeout passes.
 */
export class Actor {
  readonly events: ActorEvent[] = [];
  stderr = "";
  /** Called on every event and on exit. */
  readonly listeners = new Set<() => void>();
  exitCode: number | null | undefined;
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly language: Language,
    private readonly child: ChildProcess,
  ) {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      this.events.push(JSON.parse(line) as ActorEvent);
      this.notify();
    });
    child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) =>
      child.once("close", (code) => {
        this.exitCode = code;
        this.notify();
        resolve(code);
      }),
    );
  }

  /** Starts an actor: `args` as in the actors' usage (command first). */
  static start(language: Language, args: string[]): Actor {
    const [command, ...rest] = args;
    const child =
      language === "python"
        ? spawn(python, [pythonActor, command!, ...rest], { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] })
        : spawn(goActorBinary(), [command!, ...rest.map((a) => (a.startsWith("--") ? a.slice(1) : a))], {
            stdio: ["pipe", "pipe", "pipe"],
          });
    return new Actor(language, child);
  }

  /** Resolves with the first event matching `match` (seen already or to come). */
  waitFor(match: (e: ActorEvent) => boolean, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ActorEvent> {
    return this.until(() => this.events.find(match), what, timeoutMs);
  }

  /** Resolves once `count` events match. */
  waitForCount(match: (e: ActorEvent) => boolean, count: number, what: string, timeoutMs = DEFAULT_TIMEOUT_MS) {
    return this.until(() => (this.events.filter(match).length >= count ? true : undefined), what, timeoutMs);
  }

  /** Closes the actor's stdin: a consumer without --count stops on it. */
  closeStdin(): void {
    this.child.stdin!.end();
  }

  /** Resolves when the process exits 0; rejects with its stderr otherwise. */
  async success(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ActorEvent[]> {
    await this.until(() => (this.exitCode !== undefined ? true : undefined), "exit", timeoutMs);
    if (this.exitCode !== 0) throw new Error(`${this.language} actor exited with ${this.exitCode}:\n${this.stderr}`);
    return this.events;
  }

  /** Kills the process if it is still running. */
  async kill(): Promise<void> {
    if (this.exitCode === undefined) {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }

  messages(): ActorEvent[] {
    return this.events.filter((e) => e.event === "message");
  }

  private until<T>(probe: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return waitUntil([this], probe, what, timeoutMs);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/**
 * Resolves with `probe()` once it is defined, re-checking on every event of
 * any of `actors`. Rejects when one of them exits first, or on timeout.
 */
export function waitUntil<T>(actors: Actor[], probe: () => T | undefined, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
  const names = actors.map((a) => a.language).join(" and ");
  const stderr = () => actors.map((a) => `${a.language}: ${a.stderr}`).join("\n");
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = probe();
      if (found !== undefined) {
        cleanup();
        resolve(found);
        return;
      }
      const gone = actors.find((a) => a.exitCode !== undefined);
      if (gone) {
        cleanup();
        reject(new Error(`${gone.language} actor exited (${gone.exitCode}) before ${what}:\n${stderr()}`));
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${names}: timed out after ${timeoutMs} ms waiting for ${what}:\n${stderr()}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      for (const a of actors) a.listeners.delete(check);
    };
    for (const a of actors) a.listeners.add(check);
    check();
  });
}
