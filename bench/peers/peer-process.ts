/** Finding and starting a peer's server binary. */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { track } from "../children.js";
import { REPO_ROOT } from "../sluice-broker.js";

/** Thrown when a peer is not installed; the message says how to install it. */
export class PeerMissing extends Error {}

/** The path of a tool installed by bench/install-peers.sh (in .tools/bin), or on PATH. */
export function peerTool(name: string, peer: string): string {
  const local = path.join(process.env["SLUICE_TOOLS_BIN"] ?? path.join(REPO_ROOT, ".tools/bin"), name);
  if (existsSync(local)) return local;
  for (const dir of (process.env["PATH"] ?? "").split(":")) {
    const p = path.join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  throw new PeerMissing(`${name} is not installed: run \`bash bench/install-peers.sh ${peer}\``);
}

/** Spawns `cmd` and resolves once a line of its output matches `ready` (with the match). */
export function spawnUntil(
  cmd: string,
  args: string[],
  ready: RegExp,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; detached?: boolean } = {},
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = track(spawn(cmd, args, { env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"], detached: options.detached ?? false }));
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start: ${output.slice(-2000)}`)), options.timeoutMs ?? 30_000);
    const onLine = (line: string) => {
      output += line + "\n";
      const m = ready.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    };
    createInterface({ input: child.stdout! }).on("line", onLine);
    createInterface({ input: child.stderr! }).on("line", onLine);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${code ?? signal}) before it was ready: ${output.slice(-2000)}`));
    });
  });
}

/** Runs a tool to completion and resolves with its stdout + stderr; rejects on a non-zero exit or after `timeoutMs`. */
export function runTool(cmd: string, args: string[], timeoutMs = 300_000): Promise<string> {
  const child = track(spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] }));
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (out += s));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${path.basename(cmd)} ${args.join(" ")} failed (${code ?? signal}): ${out.slice(-2000)}`));
    });
  });
}
