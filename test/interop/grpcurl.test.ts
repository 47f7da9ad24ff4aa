import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerService } from "../../gen/sluice/v1/broker_pb.js";
import { BrokerProcess } from "./support/broker-process.js";
import { loadRecipes, type RecipeResult, runRecipe } from "./support/recipes.js";
import { TsClient } from "./support/sluice-ts.js";

// What each recipe of the README's grpcurl recipes must show. The recipes run in file
// order against one fresh broker, so later ones see what earlier ones did.
const checks: Record<string, (r: RecipeResult, ts: TsClient) => Promise<void> | void> = {
  "List the services": (r) => {
    expect(r.stdout.trim().split("\n").sort()).toEqual([
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
      "sluice.v1.AdminService",
      "sluice.v1.BrokerService",
    ]);
  },
  "List the methods of a service": (r) => {
    expect(r.stdout.trim().split("\n").sort()).toEqual(BrokerService.methods.map((m) => `sluice.v1.BrokerService.${m.name}`).sort());
  },
  "Describe a message": (r) => {
    expect(r.stdout).toContain("sluice.v1.PublishMessage is a message:");
    for (const field of [
      "string key = 1;",
      "bytes payload = 2;",
      "map<string, string> headers = 3;",
      "optional uint32 partition = 4;",
      "string message_id = 5;",
    ]) {
      expect(r.stdout).toContain(field);
    }
  },
  "Create a topic": async (r, ts) => {
    expect(JSON.parse(r.stdout).topic).toMatchObject({ name: "demo", partitionCount: 1 });
    expect((await ts.getTopic("demo")).partitionCount).toBe(1);
  },
  "Publish with a JSON body": async (r, ts) => {
    expect(JSON.parse(r.stdout)).toEqual({ results: [{ partition: 0, offset: "0", duplicate: false }] });
    expect((await ts.getTopic("demo")).partitions[0]!.endOffset).toBe(1n);
  },
  "Subscribe and ack on the same stream": async (r, ts) => {
    const responses = splitJsonStream(r.stdout);
    expect(responses[0]).toHaveProperty("subscribed.partitions", 1);
    expect(responses[1]).toMatchObject({
      deliveries: {
        deliveries: [{ message: { topic: "demo", key: "k1", payload: "aGVsbG8=", headers: { source: "grpcurl" } }, attempt: 1 }],
      },
    });
    expect(responses).toHaveLength(2);
    const group = await ts.getGroup("demo", "cli");
    expect(group.partitions[0]!.committedOffset).toBe(1n);
    expect(group.ignoredAcks).toBe(0n);
  },
  "See the group's committed offset": (r) => {
    expect(JSON.parse(r.stdout).group).toMatchObject({
      topic: "demo",
      name: "cli",
      partitions: [{ committedOffset: "1", endOffset: "1" }],
    });
  },
  "Create a group": (r) => {
    expect(JSON.parse(r.stdout).group).toMatchObject({ topic: "demo", name: "pull" });
  },
  "Fetch a message (pull)": (r) => {
    const res = JSON.parse(r.stdout);
    expect(res.deliveries).toEqual([
      expect.objectContaining({
        message: expect.objectContaining({ topic: "demo", key: "k1", payload: "aGVsbG8=" }),
        attempt: 1,
      }),
    ]);
    expect(Date.parse(res.deadline)).toBeGreaterThan(Date.now());
  },
  "Ack a fetched message": async (r, ts) => {
    expect(JSON.parse(r.stdout)).toEqual({ acked: 1, ignored: 0 });
    expect((await ts.getGroup("demo", "pull")).partitions[0]!.committedOffset).toBe(1n);
  },
  "Health check with grpcurl": (r) => {
    expect(JSON.parse(r.stdout)).toEqual({ status: "SERVING" });
  },
  "Health check with grpc-health-probe": (r) => {
    // grpc-health-probe reports on stderr; its exit code 0 means SERVING.
    expect(r.stderr.trim()).toBe("status: SERVING");
  },
};

const recipes = loadRecipes();
let broker: BrokerProcess;
let ts: TsClient;

beforeAll(async () => {
  broker = await BrokerProcess.start();
  ts = new TsClient(broker.address);
});

afterAll(async () => {
  ts?.close();
  await broker?.stop();
});

it("every recipe has a check and every check a recipe", () => {
  expect(recipes.map((r) => r.title).sort()).toEqual(Object.keys(checks).sort());
});

describe("the README's grpcurl recipes", () => {
  for (const recipe of recipes) {
    it(recipe.title, async () => {
      const result = await runRecipe(recipe, broker.address);
      expect(result.code, `stderr:\n${result.stderr}\nstdout:\n${result.stdout}`).toBe(0);
      const check = checks[recipe.title];
      if (!check) throw new Error(`no check for recipe "${recipe.title}"`);
      await check(result, ts);
    });
  }
});

/** Splits grpcurl's output of a stream: pretty-printed JSON objects one after another. */
function splitJsonStream(text: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") {
      if (depth++ === 0) start = i;
    } else if (c === "}" && --depth === 0) values.push(JSON.parse(text.slice(start, i + 1)));
  }
  return values;
}
