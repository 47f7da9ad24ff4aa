import { type Publisher, SluiceClient } from "../../../clients/ts/src/index.js";
import type { History } from "./history.js";

/** What a {@link PublishLoad} sends. */
export interface PublishLoadOptions {
  readonly address: string;
  readonly topic: string;
  readonly publishers: number;
  /** Messages each publisher sends per tick (every 20 ms). */
  readonly perTick: number;
  /** A publisher sends nothing new while this many of its sends are unconfirmed. */
  readonly maxOutstanding: number;
  /** Keys to choose from; a message gets no key with probability `unkeyedRate`. */
  readonly keys: readonly string[];
  readonly unkeyedRate: number;
  readonly random: () => number;
}

const TICK_MS = 20;

/**
 * Several TypeScript-client {@link Publisher}s, each on its own client
 * (channel), sending messages with explicit, unique message ids
 * (`p<publisher>-<n>`, also the payload) at a steady pace. The publishers
 * reconnect and resend across broker restarts by themselves; every
 * confirmation (or failure) lands in the {@link History}.
 */
export class PublishLoad {
  readonly #clients: SluiceClient[] = [];
  readonly #publishers: Publisher[] = [];
  readonly #outstanding: number[] = [];
  readonly #sent: number[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly history: History,
    readonly options: PublishLoadOptions,
  ) {
    for (let i = 0; i < options.publishers; i++) {
      const client = new SluiceClient(options.address, {
        reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
        deadlineMs: 10_000,
      });
      this.#clients.push(client);
      this.#publishers.push(client.publisher(options.topic, { lingerMs: 2 }));
      this.#outstanding.push(0);
      this.#sent.push(0);
    }
  }

  /** How many messages were handed to the publishers. */
  get sent(): number {
    return this.#sent.reduce((a, b) => a + b, 0);
  }

  start(): void {
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  /** Sends nothing more; resolves once every send is settled and the clients are closed. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all(this.#publishers.map((p) => p.close()));
    await Promise.all(this.#clients.map((c) => c.close()));
  }

  #tick(): void {
    const { perTick, maxOutstanding, keys, unkeyedRate, random } = this.options;
    this.#publishers.forEach((publisher, i) => {
      for (let k = 0; k < perTick && this.#outstanding[i]! < maxOutstanding; k++) {
        const messageId = `p${i}-${this.#sent[i]!++}`;
        const key = random() < unkeyedRate ? "" : keys[Math.floor(random() * keys.length)]!;
        this.#outstanding[i]!++;
        publisher.send({ payload: messageId, key, messageId }).then(
          (r) => {
            this.#outstanding[i]!--;
            this.history.publishes.push({ seq: this.history.next(), messageId, key, ...r });
          },
          (err: unknown) => {
            this.#outstanding[i]!--;
            this.history.publishFailures.push(`${messageId}: ${String(err)}`);
          },
        );
      }
    });
  }
}
