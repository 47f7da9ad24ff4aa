import { afterEach, describe, expect, it } from "vitest";
import { cleanupBrokerProcesses } from "../helpers/broker-process.js";
import { firstFew } from "./support/checks.js";
import { LoadScenario, report } from "./support/scenario.js";
import { faultSeed, scale, seededRandom } from "./support/scale.js";

const STOPS = scale(4, 40);

let scenario: LoadScenario | undefined;
afterEach(async () => {
  await scenario?.abort();
  scenario = undefined;
  await cleanupBrokerProcesses();
});

describe("a broker stopped with SIGTERM under load", () => {
  it(`exits 0 promptly each time, loses no confirmed publish and redelivers no confirmed ack (${STOPS} stops)`, async () => {
    const seed = faultSeed();
    const random = seededRandom(seed);
    scenario = await LoadScenario.start({
      topic: "graceful",
      partitions: 2,
      consumersPerGroup: 2,
      nackRate: 0.01,
      random,
      load: { publishers: 2, perTick: 10, maxOutstanding: 500, keys: ["a", "b", "c", "d", "e", "f"], unkeyedRate: 0.2 },
    });
    for (let i = 0; i < STOPS; i++) {
      await new Promise((r) => setTimeout(r, 400 + random() * 800));
      const asked = Date.now();
      const exit = await scenario.broker.stop();
      expect(exit, "SIGTERM ends the broker with exit code 0").toEqual({ code: 0, signal: null });
      // Streams end at once and queued writes are flushed: no waiting out the 10 s grace.
      expect(Date.now() - asked).toBeLessThan(5000);
      expect(scenario.broker.logs.some((l) => l["msg"] === "stopped")).toBe(true);
      await scenario.restarted(await scenario.broker.restart());
    }
    const result = await scenario.finish();
    report(`graceful restart, ${STOPS} SIGTERMs`, seed, result);
    expect(result.exit.code).toBe(0);
    expect(result.counts["lost"]).toBe(0);
    expect(result.counts["published"]).toBe(result.counts["sent"]);
    expect(result.violations, firstFew(result.violations)).toEqual([]);
  });
});
