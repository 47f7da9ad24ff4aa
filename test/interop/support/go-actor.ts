import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { inject } from "vitest";
import { goActorDir } from "./paths.js";

const run = promisify(execFile);

/** Builds the Go actor into a temporary folder; returns the binary and a cleanup. */
export async function buildGoActor(): Promise<{ binary: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), "sluice-go-actor-"));
  const binary = path.join(dir, "go-actor");
  await run("go", ["build", "-o", binary, "."], { cwd: goActorDir, timeout: 300_000 });
  return { binary, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The binary built by the global setup. */
export function goActorBinary(): string {
  const binary = inject("goActor");
  if (!binary) throw new Error("no Go actor: run the suite with test/interop/vitest.config.ts");
  return binary;
}

declare module "vitest" {
  export interface ProvidedContext {
    goActor: string;
  }
}
