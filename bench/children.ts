/**
 * Every child process and temp directory the bench makes, so that nothing
 * outlives it: children are killed (SIGKILL) and directories removed on exit,
 * on SIGINT/SIGTERM, and on an uncaught error.
 */
import { type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
const cleanups = new Set<() => void>();

/** Registers a child to be killed when the bench ends. */
export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/** Runs `f` (synchronously) when the bench ends, e.g. to stop a service started by a script. */
export function onCleanup(f: () => void): () => void {
  cleanups.add(f);
  return () => cleanups.delete(f);
}

/** A fresh temporary directory, removed when the bench ends. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

/** Removes a directory made by {@link tempDir} now. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Resolves when `child` has exited. */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Kills everything still running and removes every temp dir. Safe to call twice. */
export function cleanupAll(): void {
  for (const f of cleanups) {
    try {
      f();
    } catch {
      // best effort
    }
  }
  cleanups.clear();
  for (const child of live) child.kill("SIGKILL");
  live.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

process.once("exit", cleanupAll);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    process.stderr.write(`\nbench: ${signal}, stopping\n`);
    cleanupAll();
    process.exit(130);
  });
}
