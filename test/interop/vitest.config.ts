import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// `npm run test:interop`: the cross-language suite. Each file starts its own
// broker process; files run one at a time, as they also start Python, Go,
// grpcurl and grpc-health-probe processes.
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["test/interop/**/*.test.ts"],
    globalSetup: ["test/interop/support/global-setup.ts"],
    pool: "forks",
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 90_000,
    reporters: ["default", "./test/interop/support/summary-reporter.ts"],
  },
});
