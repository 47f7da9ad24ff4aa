import { afterAll, beforeAll } from "vitest";
import { SluiceClient } from "../../src/index.js";
import { startBroker, type BrokerProcess } from "./broker-process.js";

/** The broker of a test file and a client connected to it, set once `beforeAll` ran. */
export interface SharedBroker {
  broker: BrokerProcess;
  client: SluiceClient;
}

/**
 * Starts one broker and one client for the calling test file (in
 * `beforeAll`) and closes both (in `afterAll`).
 */
export function sharedBroker(): SharedBroker {
  const shared = {} as SharedBroker;
  beforeAll(async () => {
    shared.broker = await startBroker();
    shared.client = new SluiceClient(shared.broker.address);
  });
  afterAll(async () => {
    await shared.client?.close();
    await shared.broker?.stop();
  });
  return shared;
}
