import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Server } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/broker/logger.js";
import { AccessStore } from "../../src/server/auth/access-store.js";
import { authorize } from "../../src/server/auth/authorize.js";
import { methodPath, RPC_RULES } from "../../src/server/auth/rpc-permissions.js";
import { SLUICE_METHODS } from "../helpers/rpc-probe.js";

describe("RPC_RULES", () => {
  it("has a rule for exactly the RPCs of the Sluice services", () => {
    expect(Object.keys(RPC_RULES).sort()).toEqual(SLUICE_METHODS.map(methodPath).sort());
  });
});

describe("authorize", () => {
  it("refuses to serve a method that has no permission rule", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "sluice-authz-"));
    try {
      const file = path.join(dir, "tokens.yaml");
      await writeFile(file, "identities: []");
      const store = await AccessStore.open(file, silentLogger);
      const guarded = authorize(new Server(), { store, openHealth: true, openReflection: true }, silentLogger);
      const method = {
        path: "/sluice.v1.AdminService/Shiny",
        requestStream: false,
        responseStream: false,
        requestSerialize: (x: unknown) => x as Buffer,
        requestDeserialize: (x: Buffer) => x,
        responseSerialize: (x: unknown) => x as Buffer,
        responseDeserialize: (x: Buffer) => x,
      };
      expect(() => guarded.addService({ shiny: method }, { shiny: () => {} })).toThrow(
        "no permission rule for /sluice.v1.AdminService/Shiny: add one to src/server/auth/rpc-permissions.ts",
      );
      guarded.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
