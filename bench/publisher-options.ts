/**
 * The Publisher options every workload uses: the client's defaults, except
 * that `--no-message-ids` turns off automatic message ids (and with them the
 * broker's per-message dedupe work), for a like-for-like comparison with
 * peers whose benchmarks set no message id.
 */
import type { PublisherOptions } from "@sluice/client";

let autoMessageId = true;

export function setAutoMessageId(on: boolean): void {
  autoMessageId = on;
}

export function publisherOptions(extra: PublisherOptions = {}): PublisherOptions {
  return autoMessageId ? extra : { ...extra, autoMessageId: false };
}
