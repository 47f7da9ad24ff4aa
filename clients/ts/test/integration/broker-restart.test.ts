import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SluiceClient, type ConnectionStatus, type PublishResult } from "../../src/index.js";
import { startBroker, type BrokerProcess } from "../helpers/broker-process.js";

let broker: BrokerProcess;
let client: SluiceClient;

beforeAll(async () => {
  broker = await startBroker();
  client = new SluiceClient(broker.address, { reconnect: { initialDelayMs: 50, maxDelayMs: 500 } });
});

afterAll(async () => {
  await client?.close();
  await broker?.stop();
});

/** Collects the types of status events until the iterable ends. */
function record(status: AsyncIterable<ConnectionStatus>): ConnectionStatus["type"][] {
  const seen: ConnectionStatus["type"][] = [];
  void (async () => {
    for await (const s of status) seen.push(s.type);
  })();
  return seen;
}

describe("broker crash and restart", () => {
  it("publisher and subscriber both recover from SIGKILL mid-stream and no confirmed message is lost", { timeout: 60_000 }, async () => {
    const N = 8000;
    const KILL_AFTER = 2500;
    await client.createTopic("crash", { partitions: 2 });

    // The subscriber records what arrives at each position.
    const seenAt = new Map<string, string>();
    const seenPayloads = new Set<string>();
    let wanted: Set<string> | undefined;
    let resolveAllSeen!: () => void;
    const allSeen = new Promise<void>((r) => (resolveAllSeen = r));
    const checkAllSeen = (): void => {
      if (wanted && [...wanted].every((k) => seenAt.has(k))) resolveAllSeen();
    };
    const sub = client.subscribe("crash", "survivors", { maxInFlight: 500 });
    const subStatus = record(sub.status());
    const consuming = sub.process(
      (m) => {
        seenAt.set(`${m.partition}:${m.offset}`, m.text());
        seenPayloads.add(m.text());
        if (wanted) checkAllSeen();
      },
      { concurrency: 4 },
    );

    const publisher = client.publisher("crash", { lingerMs: 1 });
    const pubStatus = record(publisher.status());
    let confirmed = 0;
    let unconfirmedAtKill = 0;
    let crash: Promise<void> | undefined;
    const results: Promise<PublishResult>[] = [];
    for (let i = 0; i < N; i++) {
      const p = publisher.send(`m${i}`).then((r) => {
        if (++confirmed === KILL_AFTER) {
          // SIGKILL at once, from inside the confirmation: later batches are
          // on the wire, unconfirmed, while the producer keeps sending.
          unconfirmedAtKill = results.length - confirmed;
          crash = broker.kill().then(() => broker.restart());
        }
        return r;
      });
      results.push(p);
      if (i % 100 === 99) {
        // Let the event loop run; bound the outstanding sends to about 2000.
        await new Promise((r) => setImmediate(r));
        if (i - confirmed > 2000) await results[i - 2000];
      }
    }
    const confirmedResults = await Promise.all(results);
    await crash;
    expect(confirmed).toBe(N);
    expect(unconfirmedAtKill).toBeGreaterThan(0);

    // Every confirmed message is delivered, at the position its send resolved with.
    wanted = new Set(confirmedResults.map((r) => `${r.partition}:${r.offset}`));
    checkAllSeen();
    await allSeen;
    confirmedResults.forEach((r, i) => expect(seenAt.get(`${r.partition}:${r.offset}`)).toBe(`m${i}`));
    for (let i = 0; i < N; i++) expect(seenPayloads.has(`m${i}`)).toBe(true);

    await publisher.close();
    await sub.close();
    await consuming;
    expect(await sub.closed).toBeUndefined();

    // Both saw the connection drop and come back.
    for (const seen of [pubStatus, subStatus]) {
      const drop = seen.indexOf("disconnected");
      expect(drop).toBeGreaterThanOrEqual(0);
      expect(seen.slice(drop)).toContain("reconnecting");
      expect(seen.lastIndexOf("connected")).toBeGreaterThan(drop);
    }
  });
});
