/**
 * `npm run bench`: Sluice against its peers on this machine. See
 * docs/benchmarks.md for what each figure means and how to reproduce it.
 */
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { cleanupAll } from "./children.js";
import { GoLoadGenerator } from "./go-load-generator.js";
import { parseOptions, USAGE } from "./options.js";
import { setAutoMessageId } from "./publisher-options.js";
import { runNats } from "./peers/nats.js";
import { runRabbitmq } from "./peers/rabbitmq.js";
import { Results } from "./results.js";
import { REPO_ROOT } from "./sluice-broker.js";
import { runSluice } from "./sluice-suite.js";

async function main(): Promise<number> {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  setAutoMessageId(options.messageIds);
  const results = new Results();
  if (!options.messageIds) results.note("--no-message-ids: publishers set no message ids, so the broker does no dedupe work");
  process.stderr.write(
    `bench: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}\n`,
  );
  const t0 = performance.now();
  // Built before any broker starts, so that the compiler does not share the cores with a measurement.
  let go: GoLoadGenerator | undefined;
  const goRows = options.only.has("publish-batched") || options.only.has("publish-send-batch") || options.only.has("publish-single") || (options.goConsume && options.only.has("consume"));
  if (options.goClient && goRows) {
    const built = await GoLoadGenerator.build(options.messageIds);
    if (typeof built === "string") results.note(built);
    else {
      go = built;
      process.stderr.write(`bench: Go load generator built (${go.goVersion})\n`);
    }
  }
  await runSluice(options, results, go);
  for (const peer of options.vs) {
    if (peer === "nats") await runNats(options, results);
    if (peer === "rabbitmq") await runRabbitmq(options, results);
  }
  results.sampleLoad();
  const file = results.write(path.resolve(REPO_ROOT, options.outDir), {
    ...options,
    only: [...options.only],
    publishCount: options.sizes.map((s) => [s, options.publishCount(s)]),
  });
  const loads = results.loads;
  process.stdout.write(`\n${results.table()}\n\n`);
  for (const n of results.notes) process.stdout.write(`- ${n}\n`);
  process.stdout.write(
    `- medians of ${options.runs} run(s); load average (1 min) during the run: ${Math.min(...loads).toFixed(2)} to ${Math.max(...loads).toFixed(2)}; took ${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
  );
  process.stdout.write(`- JSON: ${path.relative(process.cwd(), file)}\n`);
  return 0;
}

main().then(
  (code) => {
    cleanupAll();
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`bench: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    cleanupAll();
    process.exit(1);
  },
);
