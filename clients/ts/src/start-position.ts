import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  StartPositionSchema,
  StartPosition_Kind,
  type StartPosition as StartPositionMessage,
} from "./gen/sluice/v1/message_pb.js";

/**
 * Where a new consumer group starts reading:
 * `"earliest"` (the oldest retained message, the default), `"latest"` (only
 * messages published after the group exists), `{ offset }` (that offset in
 * every partition, clamped to the retained range) or `{ time }` (the first
 * message of each partition published at or after `time`).
 */
export type StartPosition = "earliest" | "latest" | { readonly offset: bigint } | { readonly time: Date };

/** The wire form of a start position; `undefined` leaves the broker's default. @internal */
export function startPositionMessage(start: StartPosition | undefined): StartPositionMessage | undefined {
  if (start === undefined) return undefined;
  if (start === "earliest") return create(StartPositionSchema, { kind: StartPosition_Kind.EARLIEST });
  if (start === "latest") return create(StartPositionSchema, { kind: StartPosition_Kind.LATEST });
  if ("offset" in start) return create(StartPositionSchema, { kind: StartPosition_Kind.OFFSET, offset: start.offset });
  return create(StartPositionSchema, { kind: StartPosition_Kind.TIMESTAMP, time: timestampFromDate(start.time) });
}
