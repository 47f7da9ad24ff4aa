import { SluiceClient } from "@sluice/client";
import { SluiceBroker } from "./sluice-broker.js";
import { tempDir, cleanupAll } from "./children.js";
import { latency } from "./workloads/latency.js";
import { cpuMeter } from "./proc-stats.js";
import { setAutoMessageId } from "./publisher-options.js";
setAutoMessageId(process.argv.includes("--ids"));
const b = await SluiceBroker.start({ dataDir: tempDir("p-"), fsync: "never", runtime: "dist", cpuProfDir: process.env["PROF"] });
const c = new SluiceClient(b.address);
for (const rate of process.argv.slice(2).filter((a) => !a.startsWith("--")).map(Number)) {
  await c.createTopic(`l${rate}`);
  const m = cpuMeter(b.pid);
  const s = await latency(c, `l${rate}`, { rate, seconds: 3, warmupSeconds: 1, size: 100 });
  console.log(rate, "p50", s.p50.toFixed(2), "p99", s.p99.toFixed(2), "max", s.max.toFixed(1), "broker cores", m.stop().toFixed(2));
}
await c.close();
await b.stop();
cleanupAll();
