/**
 * Where the client reports what happens to its connections (disconnects,
 * reconnection attempts, handler failures). The shape matches pino's, so a
 * pino logger (or `logger.child({ component: "sluice" })`) can be passed as
 * is: a context object first, then the message.
 */
export interface Logger {
  /** Routine events: a stream connected. */
  debug(context: Record<string, unknown>, message: string): void;
  /** Noteworthy events: a reconnection. */
  info(context: Record<string, unknown>, message: string): void;
  /** Trouble the client recovers from: a dropped stream, a failed handler. */
  warn(context: Record<string, unknown>, message: string): void;
  /** Trouble the client gives up on. */
  error(context: Record<string, unknown>, message: string): void;
}

const noop = (): void => {};

/** A logger that discards everything; the default. */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });
