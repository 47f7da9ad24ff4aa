/** Row labels shared by Sluice and its peers, so that the table can put their figures side by side. */

export const SINGLE_CALLERS = 64;
export const CONSUME_STREAMS = 4;

export const LABELS = {
  publishBatched: "publish, batched (1 publisher)",
  publishSendBatch: "publish, sendBatch of 1,000 (1 publisher)",
  publishSingle: `publish, ${SINGLE_CALLERS} callers x 1 msg`,
  publishSingleUnary: `publish, ${SINGLE_CALLERS} callers x 1 msg (unary Publish)`,
  publishSingleViaPublisher: `publish, ${SINGLE_CALLERS} callers x 1 msg (awaited Publisher.send)`,
  /** The Go client's method is `Send`; with {@link LABELS.goClient}, "... (awaited Publisher.Send, Go client)". */
  publishSingleViaGoPublisher: `publish, ${SINGLE_CALLERS} callers x 1 msg (awaited Publisher.Send)`,
  consume: `consume+ack (1 group, ${CONSUME_STREAMS} streams)`,
  /** The same row driven by the Go client: "publish, batched (1 publisher)" becomes "publish, batched (1 publisher, Go client)". */
  goClient: (label: string) => (label.endsWith(")") ? `${label.slice(0, -1)}, Go client)` : `${label} (Go client)`),
  latency: (q: "p50" | "p99" | "p999", at: string) => `latency ${q === "p999" ? "p99.9" : q} @ ${at}`,
} as const;

/** The latency rates: a fixed 1,000 msg/s, and half of the system's own peak. */
export const LATENCY_AT_1K = "1k msg/s";
export const LATENCY_AT_HALF_PEAK = "50% of peak";
