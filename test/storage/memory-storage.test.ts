import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../../src/storage/memory-storage.js";
import { StorageError } from "../../src/storage/storage.js";
import { storageContract } from "./storage-contract.js";

storageContract("MemoryStorage", { persistent: true, failureInjection: true }, async () => {
  const storage = new MemoryStorage();
  await storage.open();
  return {
    storage,
    reopen: async () => (await storage.close(), await storage.open(), storage),
    failNextWrite: (code) => storage.failNextWrites(1, code),
    cleanup: () => storage.close(),
  };
});

describe("MemoryStorage failure injection", () => {
  it("fails the next writes with the code asked for, then writes again", async () => {
    const storage = new MemoryStorage();
    await storage.open();
    storage.failNextWrites(2, "full");
    for (let i = 0; i < 2; i++) {
      const err = await storage.batch().setNextIds(5, 5).write({ sync: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).code).toBe("full");
    }
    expect((await storage.load()).nextTopicId).toBe(1);
    await storage.batch().setNextIds(5, 5).write({ sync: true });
    expect((await storage.load()).nextTopicId).toBe(5);
  });
});
