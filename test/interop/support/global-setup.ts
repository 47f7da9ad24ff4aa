import type { TestProject } from "vitest/node";
import { buildGoActor } from "./go-actor.js";
import { missingPrerequisites } from "./paths.js";

/** Checks the installed tools, builds the Go actor once for all files. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const missing = missingPrerequisites();
  if (missing.length > 0) {
    throw new Error(`the interop suite needs (see test/interop/CI-STEPS.md):\n  ${missing.join("\n  ")}`);
  }
  const actor = await buildGoActor();
  project.provide("goActor", actor.binary);
  return actor.remove;
}
