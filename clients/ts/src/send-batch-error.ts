import type { Code } from "./code.js";
import type { PublishResult } from "./outgoing-message.js";
import { SluiceError } from "./sluice-error.js";

/**
 * How a `Publisher.sendBatch` failed: a {@link SluiceError} (so `code` is
 * the one to branch on) that also tells which messages were stored.
 *
 * - `index`: the position in the batch of the first message that was not
 *   stored; `code` and `message` are that message's error (the broker's
 *   code for a refused request, {@link Code.InvalidArgument} for a malformed
 *   message, the stream's error when reconnection gave up). 0 when the call
 *   was refused as a whole (a closed publisher).
 * - `results`: one entry per message, in batch order: where it was stored,
 *   or `undefined` when its storing was not confirmed. The broker refuses a
 *   request whole, so a message of a refused request was not stored; one
 *   that was on the wire when the stream failed for good may have been
 *   (messages with their own `messageId` can be published again safely: the
 *   broker deduplicates them within the topic's dedupe window).
 *
 * A large batch goes out as several requests, so some may be stored and
 * others refused: `results` holds positions for the stored ones only.
 */
export class SendBatchError extends SluiceError {
  override name = "SendBatchError";
  /** The position in the batch of the first message not stored. */
  readonly index: number;
  /** Per message, in batch order: where it was stored, or `undefined`. Never sparse. */
  readonly results: readonly (PublishResult | undefined)[];

  /**
   * @param code - the gRPC status code of the first failed message
   * @param message - a description for a person
   * @param index - the position of the first failed message
   * @param results - per message: its position, or `undefined`
   * @param options - `cause`: the underlying error, kept for logs
   */
  constructor(code: Code, message: string, index: number, results: readonly (PublishResult | undefined)[], options?: { cause?: unknown }) {
    super(code, message, options);
    this.index = index;
    this.results = results;
  }

  /**
   * The error of a batch of `size` messages of which none was stored:
   * `error`'s code and message, and `index`.
   * @internal
   */
  static noneStored(error: SluiceError, size: number, index = 0): SendBatchError {
    return new SendBatchError(error.code, error.message, index, new Array<undefined>(size).fill(undefined), { cause: error });
  }
}
