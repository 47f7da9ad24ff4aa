/** What a publisher gives for one message, after validation. */
export interface RecordInput {
  readonly key: string;
  readonly payload: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  readonly messageId: string;
}

/**
 * Turns a message into the bytes stored in the log, once, at publish time.
 * The edge supplies it, so stored bytes can be the wire encoding and be sent
 * to consumers without re-encoding. The core never looks inside except
 * through these methods.
 */
export interface RecordCodec {
  /** Encodes a message with its publish time (ms since the epoch). */
  encode(input: RecordInput, publishTimeMs: number): Uint8Array;
  /** The publish time (ms since the epoch) of an encoded record. */
  publishTime(value: Uint8Array): number;
  /** The key of an encoded record ("" when it has none). */
  key(value: Uint8Array): string;
  /** The message an encoded record holds. */
  decode(value: Uint8Array): RecordInput;
  /** The size a message counts for against --max-message-bytes. */
  size(input: RecordInput): number;
}
