/**
 * A stream message the edge refused before the handler saw it (e.g. a
 * PublishStream request to a topic the caller may not publish to). The
 * handler answers it in its place among the other responses, with
 * `reason` mapped to a status by src/server/status.ts, and the stream goes on.
 */
export class RejectedRequest<T> {
  constructor(
    readonly request: T,
    readonly reason: Error,
  ) {}
}
