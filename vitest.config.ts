import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "clients/ts/test/**/*.test.ts"],
    exclude: ["test/interop/**", "test/faults/**", "**/node_modules/**"],
    // Native LevelDB bindings and real child processes: one process per file.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
