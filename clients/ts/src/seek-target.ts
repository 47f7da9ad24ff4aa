import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "./code.js";
import {
  PositionSchema,
  StartPositionSchema,
  StartPosition_Kind,
  type Position,
  type StartPosition,
} from "./gen/sluice/v1/message_pb.js";
import { SluiceError } from "./sluice-error.js";

/**
 * Where `seekGroup` moves a consumer group:
 * - `{ kind: "earliest" }`: the oldest retained message of every partition;
 * - `{ kind: "latest" }`: the end of every partition (skip everything);
 * - `{ kind: "timestamp", time }`: in every partition, the first message
 *   published at or after `time`;
 * - `{ kind: "offset", offset }`: that offset in every partition;
 * - `{ offsets: [{ partition, offset }, ...] }`: an offset per partition;
 *   partitions not named stay where they are.
 *
 * Offsets are clamped to each partition's retained range.
 */
export type SeekTarget =
  | { readonly kind: "earliest" | "latest" }
  | { readonly kind: "timestamp"; readonly time: Date }
  | { readonly kind: "offset"; readonly offset: bigint }
  | { readonly offsets: ReadonlyArray<{ readonly partition: number; readonly offset: bigint }> };

function invalid(message: string): SluiceError {
  return new SluiceError(Code.InvalidArgument, message);
}

function offsetField(offset: bigint, where: string): bigint {
  if (typeof offset !== "bigint" || offset < 0n || offset >= 1n << 64n) throw invalid(`${where} must be a uint64 bigint, got ${String(offset)}`);
  return offset;
}

/**
 * The `position` and `offsets` fields of a SeekGroupRequest for `target`.
 * Throws a {@link SluiceError} (INVALID_ARGUMENT) for a target with no wire
 * form, notably an empty `offsets` list, which the broker would read as
 * "seek to the earliest".
 * @internal
 */
export function seekFields(target: SeekTarget): { position?: StartPosition; offsets: Position[] } {
  if ("offsets" in target) {
    if (target.offsets.length === 0) throw invalid("seek offsets must name at least one partition");
    const offsets = target.offsets.map(({ partition, offset }) => {
      if (!Number.isInteger(partition) || partition < 0 || partition > 0xffff_ffff) throw invalid(`seek partition must be a uint32, got ${partition}`);
      return create(PositionSchema, { partition, offset: offsetField(offset, `offset of partition ${partition}`) });
    });
    return { offsets };
  }
  switch (target.kind) {
    case "earliest":
      return { position: create(StartPositionSchema, { kind: StartPosition_Kind.EARLIEST }), offsets: [] };
    case "latest":
      return { position: create(StartPositionSchema, { kind: StartPosition_Kind.LATEST }), offsets: [] };
    case "offset":
      return {
        position: create(StartPositionSchema, { kind: StartPosition_Kind.OFFSET, offset: offsetField(target.offset, "seek offset") }),
        offsets: [],
      };
    case "timestamp":
      if (!(target.time instanceof Date) || Number.isNaN(target.time.getTime())) throw invalid("seek time must be a valid Date");
      return { position: create(StartPositionSchema, { kind: StartPosition_Kind.TIMESTAMP, time: timestampFromDate(target.time) }), offsets: [] };
    default:
      throw invalid(`unknown seek target ${JSON.stringify((target as { kind?: unknown }).kind)}`);
  }
}
