/**
 * Consumes orders through the consumer group "billing", several at a time,
 * until interrupted with Ctrl-C.
 *
 *   npx tsx clients/ts/examples/consumer.ts [address]
 */
import { SluiceClient } from "../src/index.js";

interface Order {
  order: number;
  customer: string;
  total: number;
}

const address = process.argv[2] ?? "127.0.0.1:7070";
const client = new SluiceClient(address);

// Ctrl-C closes the subscription: running handlers finish, acks are written.
const stop = new AbortController();
process.once("SIGINT", () => stop.abort());

const subscription = client.subscribe("orders", "billing", { signal: stop.signal, maxInFlight: 500 });
void (async () => {
  for await (const status of subscription.status()) console.error("subscription:", status.type);
})();

let billed = 0;
// Acked when the handler resolves, nacked (redelivered) when it throws.
await subscription.process(
  async (message) => {
    const order = message.json<Order>();
    if (order.total < 0) throw new Error(`order ${order.order} has a negative total`);
    billed += order.total;
    if (message.attempt > 1) console.error(`order ${order.order} redelivered (attempt ${message.attempt})`);
  },
  { concurrency: 8 },
);

console.log(`stopped; billed ${billed}`);
await client.close();
