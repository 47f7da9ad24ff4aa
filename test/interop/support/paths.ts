import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** Where clients/go/install-tools.sh puts the pinned Go tools. */
export const toolsBin = process.env.SLUICE_TOOLS_BIN ?? path.join(repoRoot, ".tools", "bin");

/** The Python with sluice_client installed (clients/python/bootstrap.sh). */
export const python = process.env.SLUICE_PYTHON ?? path.join(repoRoot, "clients", "python", ".venv", "bin", "python");

/** The Python actor script. */
export const pythonActor = path.join(repoRoot, "test", "interop", "actors", "python_actor.py");

/** The Go actor's module folder. */
export const goActorDir = path.join(repoRoot, "test", "interop", "actors", "go");

/** PATH with the pinned tools first. */
export const toolsPath = `${toolsBin}${path.delimiter}${process.env.PATH ?? ""}`;

/** What the suite needs before it starts, with the command that provides it. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  for (const tool of ["grpcurl", "grpc-health-probe"]) {
    if (!existsSync(path.join(toolsBin, tool))) missing.push(`${tool} (run: bash clients/go/install-tools.sh)`);
  }
  if (!existsSync(python)) missing.push(`${python} (run: bash clients/python/bootstrap.sh)`);
  return missing;
}
