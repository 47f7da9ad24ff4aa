import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot, toolsPath } from "./paths.js";

/** One grpcurl recipe of the README's "Debugging with grpcurl" section. */
export interface Recipe {
  title: string;
  script: string;
}

export const recipesFile = path.join(repoRoot, "README.md");
const BEGIN = "<!-- grpcurl-recipes:begin -->";
const END = "<!-- grpcurl-recipes:end -->";

/**
 * The README's recipes in order (between the grpcurl-recipes markers): each
 * `### ` heading and its first ```sh block. The suite runs exactly what the
 * README shows, so the recipes cannot rot.
 */
export function loadRecipes(file = recipesFile): Recipe[] {
  const whole = readFileSync(file, "utf8");
  const from = whole.indexOf(BEGIN);
  const to = whole.indexOf(END);
  if (from < 0 || to < from) throw new Error(`${file} has no ${BEGIN} ... ${END} section`);
  const text = whole.slice(from + BEGIN.length, to);
  const recipes: Recipe[] = [];
  for (const section of text.split(/^### /m).slice(1)) {
    const title = section.slice(0, section.indexOf("\n")).trim();
    const block = /```sh\n([\s\S]*?)```/.exec(section);
    if (!block) throw new Error(`recipe "${title}" has no sh block`);
    recipes.push({ title, script: block[1]! });
  }
  return recipes;
}

export interface RecipeResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a recipe with bash (`set -euo pipefail`), `$SLUICE` set and the pinned
 * tools on PATH. Past `timeoutMs` the recipe's whole process group (bash and
 * the grpcurl it started) is killed and the code is -1.
 */
export function runRecipe(recipe: Recipe, address: string, timeoutMs = 20_000): Promise<RecipeResult> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", `set -euo pipefail\n${recipe.script}`], {
      env: { ...process.env, SLUICE: address, PATH: toolsPath },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group, so a timeout can end all of it
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.kill(-child.pid!, "SIGKILL");
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? -1 : (code ?? -1), stdout, stderr: timedOut ? `${stderr}\n(timed out after ${timeoutMs} ms)` : stderr });
    });
  });
}
