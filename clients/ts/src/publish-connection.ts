import type { ReconnectOptions } from "./backoff.js";
import type { OpenStream, StreamHandle } from "./bidi-stream.js";
import { Code } from "./code.js";
import type { StatusChannel } from "./connection-status.js";
import type { PublishStreamRequest, PublishStreamResponse } from "./gen/sluice/v1/broker_pb.js";
import type { PublishMessage } from "./gen/sluice/v1/message_pb.js";
import type { Logger } from "./logger.js";
import type { Pending } from "./pending-send.js";
import { Reconnector } from "./reconnector.js";
import { RequestWindow, type SealedRequest } from "./request-window.js";
import { SluiceError } from "./sluice-error.js";

/** What a publisher's stream is opened, reopened and logged with. @internal */
export interface PublishConnectionDeps {
  open: OpenStream<PublishStreamRequest, PublishStreamResponse>;
  reconnect: ReconnectOptions;
  logger: Logger;
}

/**
 * A publisher's `PublishStream` across reconnections. Sealed requests are
 * written in order as the stream takes them (after `write` returns false,
 * from the next drain on); each answer goes to `answer` with the request it
 * answers, once, and an answer to no request in flight is logged and dropped.
 *
 * The stream is opened when a request is waiting and none is open. When it
 * breaks, the requests not answered go back in front of the others, in their
 * original order, and are written again on a new stream opened after the
 * jittered backoff (statuses on `status`). When reconnection gives up (an
 * error retrying cannot fix, or too many failed attempts), `giveUp` hears
 * the error; the requests still held are then the owner's to fail, from
 * `takeAll`.
 * @internal
 */
export class PublishConnection {
  readonly #window = new RequestWindow();
  readonly #reconnector: Reconnector;
  #stream: StreamHandle<PublishStreamRequest> | undefined;
  #token: object | undefined;
  #writable = false;
  #answered = false;
  #ending: (() => void) | undefined;
  #nextRequestId = 1n;
  #closed = false;

  /**
   * @param topic - the topic every request names
   * @param status - where the stream's status is reported
   * @param answer - settles a request's sends from the broker's response to it
   * @param giveUp - hears why reconnection gave up
   */
  constructor(
    private readonly topic: string,
    private readonly deps: PublishConnectionDeps,
    status: StatusChannel,
    private readonly answer: (sealed: SealedRequest, response: PublishStreamResponse) => void,
    private readonly giveUp: (error: SluiceError) => void,
  ) {
    this.#reconnector = new Reconnector(deps.reconnect, status, deps.logger, { topic, role: "publisher" });
  }

  /**
   * Queues a request of `entries` (`bytes` estimated) carrying `messages`
   * behind the others, with the next request id, and writes what the stream
   * takes, opening one if none is open.
   */
  send(entries: Pending[], bytes: number, messages: PublishMessage[]): void {
    const requestId = this.#nextRequestId++;
    const request: PublishStreamRequest = {
      $typeName: "sluice.v1.PublishStreamRequest",
      requestId,
      topic: this.topic,
      messages,
    };
    this.#window.push({ entries, bytes, request });
    this.#pump();
  }

  /** Takes every request not answered, those in flight first, in order. */
  takeAll(): SealedRequest[] {
    return this.#window.takeAll();
  }

  /**
   * Stops reconnecting, then half-closes the stream and waits for the broker
   * to end it, at most 5 s before cancelling it; requests still unanswered
   * when it ends are resent first, as after a break. Once resolved, no stream
   * is opened again. Never rejects.
   */
  async end(): Promise<void> {
    this.#reconnector.cancel();
    const stream = this.#stream;
    if (stream) {
      // A broker that never ends the stream must not hold close() forever.
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#ending = resolve;
        stream.end();
        timer = setTimeout(() => stream.cancel(), 5000);
      });
      clearTimeout(timer);
    }
    this.#closed = true;
  }

  #pump(): void {
    const stream = this.#stream;
    if (!stream) {
      if (this.#window.queued > 0) this.#reconnector.schedule(() => this.#connect());
      return;
    }
    while (this.#writable) {
      const sealed = this.#window.writeNext();
      if (sealed === undefined) return;
      this.#writable = stream.write(sealed.request);
    }
  }

  #connect(): void {
    if (this.#stream || this.#closed) return;
    const token = {};
    this.#token = token;
    this.#answered = false;
    this.#writable = true;
    try {
      this.#stream = this.#open(token);
    } catch (err) {
      this.#onClose(SluiceError.from(err));
      return;
    }
    this.#pump();
  }

  #open(token: object): StreamHandle<PublishStreamRequest> {
    return this.deps.open({
      onMessage: (m) => this.#token === token && this.#onResponse(m),
      onDrain: () => {
        if (this.#token !== token) return;
        this.#writable = true;
        this.#pump();
      },
      onClose: (err) => this.#token === token && this.#onClose(err),
    });
  }

  #onResponse(response: PublishStreamResponse): void {
    if (!this.#answered) {
      this.#answered = true;
      this.#reconnector.succeeded();
    }
    const sealed = this.#window.answered(response.requestId);
    if (sealed === undefined) {
      this.deps.logger.warn({ topic: this.topic, requestId: String(response.requestId) }, "sluice response for an unknown request");
      return;
    }
    this.answer(sealed, response);
  }

  #onClose(error: SluiceError | undefined): void {
    this.#stream = undefined;
    this.#token = undefined;
    this.#writable = false;
    // Unconfirmed requests go first, in their original order, to be resent.
    this.#window.requeue();
    const ending = this.#ending;
    if (ending && this.#window.queued === 0) {
      this.#ending = undefined;
      ending();
      return;
    }
    const cause = error ?? new SluiceError(Code.Unavailable, "the broker ended the publish stream");
    if (this.#reconnector.failed(cause)) {
      if (this.#window.queued > 0) this.#reconnector.schedule(() => this.#connect());
    } else {
      this.giveUp(cause);
    }
  }
}
