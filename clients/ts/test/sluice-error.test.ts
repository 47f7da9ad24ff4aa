import { Metadata, status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { Code, codeName } from "../src/code.js";
import { SluiceError } from "../src/sluice-error.js";

describe("SluiceError", () => {
  it("carries a gRPC code and the message", () => {
    const e = new SluiceError(Code.NotFound, "topic x does not exist");
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe(5);
    expect(e.message).toBe("topic x does not exist");
    expect(String(e)).toBe("SluiceError [NOT_FOUND]: topic x does not exist");
  });

  it("turns a grpc-js status error into a SluiceError with the same code and details, keeping it as cause", () => {
    const raw = Object.assign(new Error("14 UNAVAILABLE: No connection established"), {
      code: status.UNAVAILABLE,
      details: "No connection established",
      metadata: new Metadata(),
    });
    const e = SluiceError.from(raw);
    expect(e).toBeInstanceOf(SluiceError);
    expect(e.code).toBe(Code.Unavailable);
    expect(e.message).toBe("No connection established");
    expect(e.cause).toBe(raw);
  });

  it("maps aborts to CANCELLED and anything else to UNKNOWN", () => {
    expect(SluiceError.from(new DOMException("x", "AbortError")).code).toBe(Code.Cancelled);
    expect(SluiceError.from(new TypeError("boom"))).toMatchObject({ code: Code.Unknown, message: "boom" });
    expect(SluiceError.from("text")).toMatchObject({ code: Code.Unknown, message: "text" });
    // A numeric code outside the gRPC set is not trusted.
    expect(SluiceError.from(Object.assign(new Error("http"), { code: 404 })).code).toBe(Code.Unknown);
  });

  it("returns a SluiceError unchanged", () => {
    const e = new SluiceError(Code.Aborted, "x");
    expect(SluiceError.from(e)).toBe(e);
  });

  it("names codes the gRPC way", () => {
    expect(codeName(Code.ResourceExhausted)).toBe("RESOURCE_EXHAUSTED");
    expect(codeName(Code.Ok)).toBe("OK");
    expect(codeName(99 as Code)).toBe("CODE_99");
  });
});
