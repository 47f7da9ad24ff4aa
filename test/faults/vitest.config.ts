import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// `npm run test:faults`: the crash, fault, load and bad-input suite (issue 7).
// Every file starts real broker processes and measures them, so files run one
// at a time; `SLUICE_SOAK=1` makes every scenario longer (see support/scale.ts).
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["test/faults/**/*.test.ts"],
    pool: "forks",
    fileParallelism: false,
    testTimeout: process.env.SLUICE_SOAK === "1" ? 3_600_000 : 120_000,
    hookTimeout: 60_000,
    // hostile-streams.test.ts measures the heap of an in-process broker after a full GC.
    execArgv: ["--expose-gc"],
  },
});
