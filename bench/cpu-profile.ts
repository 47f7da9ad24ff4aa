/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof DIR`): the
 * functions with the most self time, and the share of idle and GC time.
 *
 *   npx tsx bench/cpu-profile.ts DIR/CPU.*.cpuprofile [--top 30]
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

function keyOf(n: Node): string {
  const f = n.callFrame;
  const where = f.url ? `${f.url.replace(/^.*\/(node_modules|src|gen|dist)\//, "$1/")}:${f.lineNumber + 1}` : "";
  return `${f.functionName || "(anonymous)"} ${where}`.trim();
}

export function summarise(file: string, top = 30): string {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!)!;
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    const key = keyOf(n);
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  // Inclusive time: each sample counts once for every distinct function on its stack.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const seen = new Set<string>();
    for (let id: number | undefined = p.samples[i]!; id !== undefined; id = parent.get(id)) {
      const key = keyOf(byId.get(id)!);
      if (!seen.has(key)) {
        seen.add(key);
        inclusive.set(key, (inclusive.get(key) ?? 0) + (p.timeDeltas[i] ?? 0));
      }
    }
  }
  const idle = self.get("(idle)") ?? 0;
  const busy = total - idle;
  const rows = [...self].filter(([k]) => k !== "(idle)").sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = [`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (${((100 * busy) / total).toFixed(0)}%)`];
  lines.push("self time:");
  for (const [k, t] of rows) lines.push(`${((100 * t) / busy).toFixed(1).padStart(5)}%  ${k}`);
  lines.push("inclusive time:");
  const skip = new Set(["(root)", "(idle)", "(program)", "(garbage collector)"]);
  const incl = [...inclusive].filter(([k]) => !skip.has(k)).sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [k, t] of incl) lines.push(`${((100 * t) / busy).toFixed(1).padStart(5)}%  ${k}`);
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const i = args.indexOf("--top");
  const top = i >= 0 ? Number(args[i + 1]) : 30;
  for (const f of args.filter((a, k) => !a.startsWith("--") && (i < 0 || k !== i + 1))) console.log(summarise(f, top) + "\n");
}
