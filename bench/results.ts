/**
 * Measurements, the comparison table, and the JSON written to bench/results/.
 * A measurement is one figure of one system for one workload and size, with
 * the value of every run; the table shows medians, Sluice first, then each
 * peer and the ratio Sluice/peer (for latency and memory, peer/Sluice, so a
 * ratio above 1 always means Sluice is better).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import path from "node:path";
import { median } from "./stats.js";

export type Better = "higher" | "lower";

export interface Measurement {
  /** Row key, e.g. "publish-batched". */
  readonly workload: string;
  /** Human label of the row. */
  readonly label: string;
  /** Payload size in bytes (0 when not applicable). */
  readonly size: number;
  /** The system measured: "sluice", "sluice fsync", "jetstream (nats bench)", ... */
  readonly system: string;
  readonly unit: string;
  readonly better: Better;
  readonly runs: number[];
  /** Anything else worth keeping (broker CPU, counts, all percentiles). */
  readonly extra?: Record<string, unknown>;
}

export class Results {
  readonly measurements: Measurement[] = [];
  readonly notes: string[] = [];
  readonly loads: number[] = [];
  readonly startedAt = new Date();

  add(m: Measurement): Measurement {
    this.measurements.push(m);
    this.sampleLoad();
    const v = median(m.runs);
    process.stderr.write(`  ${m.system.padEnd(26)} ${m.label} ${sizeLabel(m.size)}: ${fmt(v, m.unit)} (runs: ${m.runs.map((r) => fmt(r, m.unit)).join(", ")})${m.extra?.["brokerCpuUsPerMsg"] ? `, broker CPU us/msg: ${String(m.extra["brokerCpuUsPerMsg"])}` : ""}${m.extra?.["clientCpuUsPerMsg"] ? `, client CPU us/msg: ${String(m.extra["clientCpuUsPerMsg"])}` : ""}\n`);
    return m;
  }

  note(text: string): void {
    this.notes.push(text);
    process.stderr.write(`  note: ${text}\n`);
  }

  sampleLoad(): void {
    this.loads.push(loadavg()[0]!);
  }

  /** The comparison table, as a Markdown table: one row per Sluice figure, each peer's figure and ratio beside it. */
  table(): string {
    const isSluice = (m: Measurement) => m.system.startsWith("sluice");
    const peers = [...new Set(this.measurements.filter((m) => !isSluice(m)).map((m) => m.system))];
    const header = ["workload", "size", "Sluice", ...peers.flatMap((p) => [p, "ratio"])];
    const lines: string[][] = [header];
    for (const s of this.measurements.filter(isSluice)) {
      const variant = s.system === "sluice" ? "" : ` [${s.system.slice("sluice ".length)}]`;
      const cells = [s.label + variant, sizeLabel(s.size), fmt(median(s.runs), s.unit)];
      for (const p of peers) {
        // Matched by workload and size: several Sluice rows (e.g. two ways to publish single messages) may face one peer figure.
        const m = this.measurements.find((x) => x.system === p && x.workload === s.workload && x.size === s.size);
        if (m === undefined) {
          cells.push("", "");
          continue;
        }
        const a = median(s.runs);
        const b = median(m.runs);
        const ratio = s.better === "higher" ? a / b : b / a;
        cells.push(fmt(b, m.unit), Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : "");
      }
      lines.push(cells);
    }
    const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? "").length)));
    const out = lines.map((l) => "| " + l.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ") + " |");
    out.splice(1, 0, "|" + widths.map((w, i) => (i < 2 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|");
    return out.join("\n");
  }

  /** Writes the JSON file; returns its path. */
  write(dir: string, options: Record<string, unknown>): string {
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `bench-${this.startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
    const body = {
      startedAt: this.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryBytes: totalmem(), node: process.version },
      loadAverage: { min: Math.min(...this.loads), max: Math.max(...this.loads), samples: this.loads },
      options,
      notes: this.notes,
      measurements: this.measurements.map((m) => ({ ...m, median: median(m.runs) })),
    };
    writeFileSync(file, JSON.stringify(body, null, 2) + "\n");
    return file;
  }
}

export function sizeLabel(size: number): string {
  if (size === 0) return "";
  return size % 1024 === 0 ? `${size / 1024} KiB` : `${size} B`;
}

/** Formats a value with its unit: rates get thousands separators, ms two decimals. */
export function fmt(v: number, unit: string): string {
  if (!Number.isFinite(v)) return "n/a";
  switch (unit) {
    case "msg/s":
      return `${Math.round(v).toLocaleString("en-US")} msg/s`;
    case "ms":
      return `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
    case "MB":
      return `${v.toFixed(0)} MB`;
    case "s":
      return `${v.toFixed(2)} s`;
    default:
      return `${v} ${unit}`;
  }
}
