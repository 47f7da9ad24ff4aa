import type { OpenStream, StreamHandle, StreamHandlers } from "../../src/bidi-stream.js";
import type { SluiceError } from "../../src/sluice-error.js";

/** An in-process stand-in for one gRPC bidi stream: records writes, lets the test answer. */
export class FakeStream<I, O> implements StreamHandle<I> {
  readonly written: I[] = [];
  ended = false;
  cancelled = false;
  /** What `write` returns; set to false to simulate a full buffer. */
  accepting = true;
  #closed = false;

  constructor(private readonly handlers: StreamHandlers<O>) {}

  write(message: I): boolean {
    if (this.#closed) throw new Error("write after close");
    this.written.push(message);
    return this.accepting;
  }

  end(): void {
    this.ended = true;
  }

  cancel(): void {
    this.cancelled = true;
  }

  /** The broker sends `message`. */
  respond(message: O): void {
    this.handlers.onMessage(message);
  }

  /** The stream's buffer empties. */
  drain(): void {
    this.accepting = true;
    this.handlers.onDrain();
  }

  /** The stream ends: cleanly (`undefined`) or with an error. */
  close(error?: SluiceError): void {
    this.#closed = true;
    this.handlers.onClose(error);
  }
}

/** An `OpenStream` that creates {@link FakeStream}s and lets tests await each one. */
export class FakeTransport<I, O> {
  readonly streams: FakeStream<I, O>[] = [];
  #waiters: ((s: FakeStream<I, O>) => void)[] = [];

  readonly open: OpenStream<I, O> = (handlers) => {
    const stream = new FakeStream<I, O>(handlers);
    this.streams.push(stream);
    for (const w of this.#waiters.splice(0)) w(stream);
    return stream;
  };

  /** Resolves with stream number `index` (0-based) once it is opened. */
  stream(index: number): Promise<FakeStream<I, O>> {
    const existing = this.streams[index];
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve) => {
      const wait = (): void => {
        const s = this.streams[index];
        if (s) resolve(s);
        else this.#waiters.push(wait);
      };
      this.#waiters.push(wait);
    });
  }
}

/** Resolves after the pending immediates of this turn ran (coalesced writes, linger 0). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
