/**
 * Broker memory and restart: RSS with a backlog on disk and many open
 * streams consuming it, restart time with that backlog, and (for --long) a
 * steady soak that checks RSS does not grow.
 */
import type { SluiceClient, Subscription } from "@sluice/client";
import { publisherOptions } from "../publisher-options.js";
import { rssSampler } from "../proc-stats.js";
import { sleep } from "../payloads.js";
import { paced } from "./latency.js";

/**
 * Opens `streams` subscriptions of one group on `topic`, each acking what it
 * gets, for `seconds`; resolves with the broker's peak RSS (bytes) meanwhile
 * and how many messages were acked.
 */
export async function rssWithStreams(
  client: SluiceClient,
  brokerPid: number,
  topic: string,
  streams: number,
  seconds: number,
): Promise<{ peak: number; acked: number }> {
  const sampler = rssSampler(brokerPid, 100);
  const { subs, acked } = openAcking(client, topic, "rss-streams", streams);
  await sleep(seconds * 1000);
  const { peak } = sampler.stop();
  await Promise.all(subs.map((s) => s.close()));
  return { peak, acked: acked() };
}

function openAcking(client: SluiceClient, topic: string, group: string, streams: number) {
  let acked = 0;
  const subs: Subscription[] = [];
  for (let i = 0; i < streams; i++) {
    const sub = client.subscribe(topic, group, { start: "earliest", maxLeaseMs: 0 });
    subs.push(sub);
    void (async () => {
      for await (const m of sub) {
        m.ack();
        acked++;
      }
    })();
  }
  return { subs, acked: () => acked };
}

/**
 * A steady soak: publishes at `rate` to `topic` while `streams` subscriptions
 * consume it, for `minutes`; samples RSS every 10 s. Resolves with the
 * samples and the growth from the second fifth of the soak (once caches
 * filled) to the last fifth, in bytes.
 */
export async function soak(
  client: SluiceClient,
  brokerPid: number,
  topic: string,
  o: { streams: number; rate: number; minutes: number; payload: Buffer },
): Promise<{ samples: number[]; growth: number; acked: number }> {
  const { subs, acked } = openAcking(client, topic, "soak", o.streams);
  const publisher = client.publisher(topic, publisherOptions());
  const sampler = rssSampler(brokerPid, Math.min(10_000, o.minutes * 2000));
  let failure: unknown;
  await paced(o.rate, o.minutes * 60, () => void publisher.send(o.payload).catch((e: unknown) => (failure ??= e)));
  const { samples } = sampler.stop();
  await publisher.close();
  await Promise.all(subs.map((s) => s.close()));
  if (failure !== undefined) throw failure;
  // Compare the second fifth (once caches filled) with the last fifth.
  const n = samples.length;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const early = mean(samples.slice(Math.floor(n / 5), Math.max(Math.floor((2 * n) / 5), Math.floor(n / 5) + 1)));
  const late = mean(samples.slice(Math.floor((4 * n) / 5)));
  return { samples, growth: late - early, acked: acked() };
}
