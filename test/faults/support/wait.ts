import { readFile } from "node:fs/promises";

/**
 * Polls `condition` every `intervalMs` until it holds, for state that no
 * event announces (a broker's GetGroup, a process's RSS). Rejects after
 * `timeoutMs` with `what` and the last value seen.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T> | T,
  condition: (value: T) => boolean,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      if (condition(last)) return last;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const seen = lastError === undefined ? jsonish(last) : String(lastError);
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}; last: ${seen}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}

/** A promise that rejects with `what` after `ms`, for racing an awaited event. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** The resident set size of process `pid`, in bytes, from /proc/<pid>/status. */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (m === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

export const MiB = 1 << 20;

function jsonish(v: unknown): string {
  try {
    return JSON.stringify(v, (_, x) => (typeof x === "bigint" ? String(x) : x));
  } catch {
    return String(v);
  }
}
