/**
 * The client-side record of a fault scenario: every publish confirmation,
 * every delivery, every ack sent and every ack confirmation, each stamped
 * with a global sequence number. All clients live in the test process, so
 * the sequence is a total order that respects causality: an ack is recorded
 * before it is written, and whatever the broker does because of it is
 * recorded after.
 */

/** A position in a topic, as a string key: `partition/offset`. */
export type PosKey = string;

export const posKey = (partition: number, offset: bigint): PosKey => `${partition}/${offset}`;

/** A publish the broker confirmed. */
export interface PublishEvent {
  readonly seq: number;
  readonly messageId: string;
  readonly key: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly duplicate: boolean;
}

/** A delivery received by a consumer. */
export interface DeliveryEvent {
  readonly seq: number;
  readonly group: string;
  readonly consumer: string;
  /** Which broker process (1, 2, ...) the stream belonged to. */
  readonly lifetime: number;
  readonly partition: number;
  readonly offset: bigint;
  readonly attempt: number;
  readonly key: string;
  readonly messageId: string;
}

/** An `ack` written to a stream, with its `ack_id`. */
export interface AckSentEvent {
  readonly seq: number;
  readonly group: string;
  readonly lifetime: number;
  readonly ackId: bigint;
  readonly positions: ReadonlyArray<{ readonly partition: number; readonly offset: bigint }>;
}

/** An `ack_confirmation`: the acks of `ackId` are durable, except `ignored`. */
export interface AckConfirmedEvent {
  readonly seq: number;
  readonly group: string;
  readonly ackId: bigint;
  readonly ignored: ReadonlySet<PosKey>;
}

/** A GetGroup sample: the committed offset of each partition. */
export interface SampleEvent {
  readonly seq: number;
  readonly group: string;
  readonly lifetime: number;
  readonly committed: readonly bigint[];
}

export class History {
  #seq = 0;
  #ackId = 0n;
  readonly publishes: PublishEvent[] = [];
  readonly publishFailures: string[] = [];
  readonly deliveries: DeliveryEvent[] = [];
  readonly acksSent: AckSentEvent[] = [];
  readonly acksConfirmed: AckConfirmedEvent[] = [];
  readonly samples: SampleEvent[] = [];
  /** Stream errors other than the broker going away, e.g. INTERNAL. */
  readonly streamErrors: string[] = [];

  /** The next sequence number. */
  next(): number {
    return ++this.#seq;
  }

  /** A fresh `ack_id`, unique across every consumer of the scenario. */
  nextAckId(): bigint {
    return ++this.#ackId;
  }

  /** Acks sent per group, confirmed acks per group. */
  counts(): { acksSent: number; acksConfirmed: number } {
    const byId = new Map(this.acksSent.map((a) => [`${a.group}#${a.ackId}`, a]));
    let confirmed = 0;
    for (const c of this.acksConfirmed) {
      const a = byId.get(`${c.group}#${c.ackId}`);
      if (a !== undefined) confirmed += a.positions.length - c.ignored.size;
    }
    return { acksSent: this.acksSent.reduce((n, a) => n + a.positions.length, 0), acksConfirmed: confirmed };
  }
}
