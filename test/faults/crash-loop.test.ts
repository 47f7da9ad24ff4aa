import { afterEach, describe, expect, it } from "vitest";
import { cleanupBrokerProcesses } from "../helpers/broker-process.js";
import { firstFew } from "./support/checks.js";
import { LoadScenario, report } from "./support/scenario.js";
import { faultSeed, scale, seededRandom } from "./support/scale.js";

const CRASHES = scale(20, 200);

let scenario: LoadScenario | undefined;
afterEach(async () => {
  await scenario?.abort();
  scenario = undefined;
  await cleanupBrokerProcesses();
});

describe("a broker SIGKILLed and restarted at random moments under load", () => {
  it(
    `loses no confirmed publish, stores each once at its confirmed offset, delivers everything to both groups, ` +
      `never redelivers a confirmed ack, never moves a committed offset back, and keeps keys in order (${CRASHES} crashes)`,
    async () => {
      const seed = faultSeed();
      const random = seededRandom(seed);
      scenario = await LoadScenario.start({
        topic: "orders",
        partitions: 3,
        consumersPerGroup: 2,
        nackRate: 0.02,
        random,
        load: {
          publishers: 3,
          perTick: scale(6, 10),
          maxOutstanding: 300,
          keys: Array.from({ length: 24 }, (_, i) => `key-${i}`),
          unkeyedRate: 0.1,
        },
      });
      for (let i = 0; i < CRASHES; i++) {
        // A random moment: sometimes right after the start, mostly under load.
        const delay = random() < 0.15 ? random() * 50 : 150 + random() * 1000;
        await new Promise((r) => setTimeout(r, delay));
        scenario.broker.kill("SIGKILL");
        const exit = await scenario.broker.exited;
        expect(exit.signal).toBe("SIGKILL");
        await scenario.restarted(await scenario.broker.restart());
      }
      const result = await scenario.finish();
      report(`crash loop, ${CRASHES} SIGKILLs`, seed, result);
      expect(result.exit.code, "the final SIGTERM exits 0").toBe(0);
      expect(result.counts["lost"]).toBe(0);
      expect(result.counts["published"]).toBe(result.counts["sent"]);
      expect(result.counts["published"]).toBeGreaterThan(1000);
      expect(result.violations, firstFew(result.violations)).toEqual([]);
    },
  );
});
