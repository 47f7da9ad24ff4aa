import { StorageError } from "../storage/storage.js";
import { BrokerError } from "./broker-error.js";

/** Turns a storage failure into the error a client should see. */
export function fromStorageError(err: unknown): BrokerError {
  if (err instanceof BrokerError) return err;
  if (err instanceof StorageError) {
    if (err.code === "full") {
      return new BrokerError("resource-exhausted", "the broker's disk is full; retry once space is freed", { cause: err });
    }
    return new BrokerError("unavailable", "the broker's storage is unavailable; retry later", { cause: err });
  }
  return new BrokerError("internal", "internal error", { cause: err });
}
