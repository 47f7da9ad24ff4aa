import type { Logger } from "./logger.js";
import type { ReceivedMessage } from "./received-message.js";
import type { ProcessOptions } from "./subscribe-options.js";

/**
 * Starts `concurrency` workers that pull messages and run `handler` on each:
 * a message is acked when its handler resolves (a no-op if the handler
 * settled it already) and nacked, with `nackDelayMs`, when it throws; the
 * failure is logged, never lost silently. A worker ends when `pull` is done
 * and rejects when `pull` throws.
 * @internal
 */
export function runHandlers(
  pull: () => Promise<IteratorResult<ReceivedMessage>>,
  handler: (message: ReceivedMessage) => unknown,
  options: ProcessOptions,
  logger: Logger,
  context: Record<string, unknown>,
): Promise<void>[] {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
  const work = async (): Promise<void> => {
    for (;;) {
      const next = await pull();
      if (next.done) return;
      const message = next.value;
      try {
        await handler(message);
        message.ack();
      } catch (err) {
        logger.warn(
          { ...context, partition: message.partition, offset: String(message.offset), attempt: message.attempt, err: String(err) },
          "sluice handler failed; message nacked",
        );
        message.nack(options.nackDelayMs);
      }
    }
  };
  return Array.from({ length: concurrency }, work);
}
