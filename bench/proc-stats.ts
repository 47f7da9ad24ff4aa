/** What Linux says about a process: resident memory and CPU time, from /proc. */
import { readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Resident set size of `pid` in bytes; NaN when the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** User + system CPU seconds used by `pid` so far; NaN when the process is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** Measures the CPU `pid` uses between `start()` and `stop()`, in cores (1.0 = one core busy). */
export function cpuMeter(pid: number): { stop(): number } {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  return {
    stop() {
      const dt = (performance.now() - t0) / 1000;
      return dt > 0 ? (cpuSeconds(pid) - c0) / dt : NaN;
    },
  };
}

/** Like {@link cpuMeter}, for this process (the bench and the TypeScript client it drives). */
export function ownCpuMeter(): { stop(): number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  return {
    stop() {
      const dt = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      return dt > 0 ? (c.user + c.system) / 1e6 / dt : NaN;
    },
  };
}

/** Samples the RSS of `pid` every `everyMs` until stopped; returns the peak and the samples. */
export function rssSampler(pid: number, everyMs = 100): { stop(): { peak: number; samples: number[] } } {
  const samples: number[] = [rssBytes(pid)];
  const timer = setInterval(() => samples.push(rssBytes(pid)), everyMs);
  return {
    stop() {
      clearInterval(timer);
      samples.push(rssBytes(pid));
      const ok = samples.filter((x) => !Number.isNaN(x));
      return { peak: ok.length ? Math.max(...ok) : NaN, samples };
    },
  };
}
