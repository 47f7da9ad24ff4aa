import type { SluiceError } from "./sluice-error.js";

/** The settling side of a promise a message verb returned. @internal */
export interface Waiter {
  resolve(): void;
  reject(error: SluiceError): void;
}

const ignore = (): void => {};

/**
 * A promise and the {@link Waiter} that settles it. The promise is marked
 * handled: a caller that ignores what `ack()` returned (fire-and-forget, the
 * common style) never gets an unhandled rejection, while one that awaits it
 * still sees the error.
 * @internal
 */
export function newWaiter(): [Promise<void>, Waiter] {
  let waiter!: Waiter;
  const promise = new Promise<void>((resolve, reject) => (waiter = { resolve, reject }));
  promise.catch(ignore);
  return [promise, waiter];
}

/** An already resolved promise, shared by verbs that have nothing to wait for. @internal */
export const settledNow: Promise<void> = Promise.resolve();
