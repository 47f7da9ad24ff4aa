import { timestampDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { Code } from "../src/code.js";
import { StartPosition_Kind } from "../src/gen/sluice/v1/message_pb.js";
import { seekFields, type SeekTarget } from "../src/seek-target.js";

describe("seekFields", () => {
  it("maps earliest, latest and one offset for every partition to a start position", () => {
    expect(seekFields({ kind: "earliest" })).toMatchObject({ position: { kind: StartPosition_Kind.EARLIEST }, offsets: [] });
    expect(seekFields({ kind: "latest" })).toMatchObject({ position: { kind: StartPosition_Kind.LATEST }, offsets: [] });
    expect(seekFields({ kind: "offset", offset: 42n })).toMatchObject({ position: { kind: StartPosition_Kind.OFFSET, offset: 42n } });
  });

  it("maps a timestamp to a start position with the same instant", () => {
    const time = new Date("2024-05-01T12:34:56.789Z");
    const { position } = seekFields({ kind: "timestamp", time });
    expect(position?.kind).toBe(StartPosition_Kind.TIMESTAMP);
    expect(timestampDate(position!.time!).getTime()).toBe(time.getTime());
  });

  it("maps per-partition offsets to positions and no start position", () => {
    const fields = seekFields({ offsets: [{ partition: 0, offset: 3n }, { partition: 2, offset: 0n }] });
    expect(fields.position).toBeUndefined();
    expect(fields.offsets.map((p) => [p.partition, p.offset])).toEqual([
      [0, 3n],
      [2, 0n],
    ]);
  });

  it("refuses an empty offsets list, which the broker would take as a seek to the earliest", () => {
    expect(() => seekFields({ offsets: [] })).toThrowError(expect.objectContaining({ code: Code.InvalidArgument }));
  });

  it("refuses targets without a wire form with INVALID_ARGUMENT", () => {
    const bad: SeekTarget[] = [
      { kind: "offset", offset: -1n },
      { kind: "timestamp", time: new Date(Number.NaN) },
      { offsets: [{ partition: -1, offset: 0n }] },
      { offsets: [{ partition: 0, offset: 1n << 64n }] },
      { kind: "middle" } as unknown as SeekTarget,
    ];
    for (const target of bad) {
      expect(() => seekFields(target)).toThrowError(expect.objectContaining({ code: Code.InvalidArgument }));
    }
  });
});
