/**
 * Publishes a stream of JSON orders with a batching Publisher.
 *
 *   npx tsx clients/ts/examples/producer.ts [address] [count]
 *
 * Start a broker first: `npm start -- --port 7070 --data-dir ./data`.
 */
import { Code, SluiceClient, SluiceError, json } from "../src/index.js";

const address = process.argv[2] ?? "127.0.0.1:7070";
const count = Number(process.argv[3] ?? 1000);

const client = new SluiceClient(address);
try {
  await client.createTopic("orders", { partitions: 4 });
} catch (err) {
  if (!(err instanceof SluiceError && err.code === Code.AlreadyExists)) throw err;
}

const publisher = client.publisher("orders");
// Report reconnections without mixing them into the data path.
void (async () => {
  for await (const status of publisher.status()) console.error("publisher:", status.type);
})();

const sends = [];
for (let i = 0; i < count; i++) {
  const customer = `customer-${i % 10}`;
  // Same key, same partition: one customer's orders stay in order.
  sends.push(publisher.send({ key: customer, payload: json({ order: i, customer, total: (i % 7) * 10 }) }));
}
const results = await Promise.all(sends);
const last = results.at(-1);
console.log(`published ${results.length} orders; the last went to partition ${last?.partition} at offset ${last?.offset}`);

await publisher.close();
await client.close();
