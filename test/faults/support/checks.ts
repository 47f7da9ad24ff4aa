/**
 * Checks of a recorded {@link History} against the broker's final state.
 * Each returns the violations it found as sentences (empty: the property
 * holds), so a failing test prints what went wrong, not just "false".
 */
import { type DeliveryEvent, type History, type PosKey, posKey } from "./history.js";

/** One stored message, as read back from the broker at the end. */
export interface LogEntry {
  readonly partition: number;
  readonly offset: bigint;
  readonly messageId: string;
  readonly key: string;
}

/** What the log check found. */
export interface LogVerdict {
  readonly violations: string[];
  /** Messages in the log. */
  readonly stored: number;
  /** Copies beyond the first of one message id. */
  readonly duplicates: number;
  /** Confirmed publishes not found at their confirmed position. */
  readonly lost: number;
}

/**
 * The log: every partition holds exactly the offsets [0, end); every
 * confirmed publish is at the position it was confirmed with; every stored
 * message is one that was sent; with `dedupe`, each message id is stored
 * once, else at least once (copies are counted).
 */
export function checkLog(log: readonly LogEntry[], ends: readonly bigint[], history: History, dedupe: boolean): LogVerdict {
  const violations: string[] = [];
  const at = new Map<PosKey, LogEntry>();
  const copies = new Map<string, number>();
  for (const e of log) {
    const k = posKey(e.partition, e.offset);
    if (at.has(k)) violations.push(`position ${k} read twice from the log`);
    at.set(k, e);
    copies.set(e.messageId, (copies.get(e.messageId) ?? 0) + 1);
  }
  ends.forEach((end, p) => {
    for (let o = 0n; o < end; o++) if (!at.has(posKey(p, o))) violations.push(`partition ${p} has a hole at offset ${o} (end ${end})`);
  });
  if (at.size !== Number(ends.reduce((a, b) => a + b, 0n))) violations.push(`read ${at.size} messages, the partitions' ends add up to ${ends.join("+")}`);
  let lost = 0;
  const confirmedIds = new Set<string>();
  for (const pub of history.publishes) {
    confirmedIds.add(pub.messageId);
    const e = at.get(posKey(pub.partition, pub.offset));
    if (e?.messageId !== pub.messageId) {
      lost++;
      violations.push(`${pub.messageId} was confirmed at ${posKey(pub.partition, pub.offset)}, which holds ${e?.messageId ?? "nothing"}`);
    }
  }
  let duplicates = 0;
  for (const [id, n] of copies) {
    if (!confirmedIds.has(id)) violations.push(`the log holds ${id}, which no publish confirmed`);
    if (n > 1) {
      duplicates += n - 1;
      if (dedupe) violations.push(`${id} is stored ${n} times although the topic deduplicates`);
    }
  }
  return { violations, stored: at.size, duplicates, lost };
}

/** What the delivery check of one group found. */
export interface GroupVerdict {
  readonly violations: string[];
  readonly delivered: number;
  /** Deliveries of a position this group had been given before. */
  readonly redelivered: number;
}

/**
 * One group's deliveries: every stored message reached the group at least
 * once; nothing was delivered that is not in the log; nothing was delivered
 * after an ack of it was confirmed durable; and, for an `ordered` group,
 * no message of a key was delivered before every earlier message of its key
 * had been acked (by an ack sent earlier that the broker did not report as
 * ignored). Across a crash the broker may restart a key from its first
 * message whose ack was not yet durable; acks sent before the crash count,
 * since the client cannot know which of them became durable.
 */
export function checkGroup(group: string, log: readonly LogEntry[], history: History, ordered: boolean): GroupVerdict {
  const violations: string[] = [];
  const byPos = new Map<PosKey, LogEntry>(log.map((e) => [posKey(e.partition, e.offset), e]));
  const deliveries = history.deliveries.filter((d) => d.group === group);

  // The earliest confirmation of an ack of each position, and the earliest
  // ack sent that was not reported ignored.
  const confirmations = new Map<bigint, ReadonlySet<PosKey>>();
  const confirmedAt = new Map<bigint, number>();
  for (const c of history.acksConfirmed) {
    if (c.group !== group) continue;
    confirmations.set(c.ackId, c.ignored);
    confirmedAt.set(c.ackId, c.seq);
  }
  const durableAck = new Map<PosKey, number>();
  const sentAck = new Map<PosKey, number>();
  for (const a of history.acksSent) {
    if (a.group !== group) continue;
    const ignored = confirmations.get(a.ackId);
    const confirmed = confirmedAt.get(a.ackId);
    for (const p of a.positions) {
      const k = posKey(p.partition, p.offset);
      if (ignored?.has(k)) continue;
      if (!sentAck.has(k)) sentAck.set(k, a.seq);
      if (confirmed !== undefined && (durableAck.get(k) ?? Infinity) > confirmed) durableAck.set(k, confirmed);
    }
  }

  const seen = new Set<PosKey>();
  let redelivered = 0;
  for (const d of deliveries) {
    const k = posKey(d.partition, d.offset);
    const e = byPos.get(k);
    if (e === undefined) violations.push(`${group} was given ${k}, which is not in the log`);
    else if (e.messageId !== d.messageId || e.key !== d.key) violations.push(`${group} was given ${k} as ${d.messageId}, the log holds ${e.messageId}`);
    if (seen.has(k)) redelivered++;
    seen.add(k);
    const durable = durableAck.get(k);
    if (durable !== undefined && durable < d.seq) {
      violations.push(`${group} was given ${k} (attempt ${d.attempt}, broker life ${d.lifetime}) after its ack was confirmed durable`);
    }
  }
  for (const e of log) {
    const k = posKey(e.partition, e.offset);
    if (!seen.has(k)) violations.push(`${group} was never given ${k} (${e.messageId})`);
  }

  if (ordered) {
    // Per partition and key: the offsets in order, and before each, the
    // latest "first ack sent" of all earlier ones.
    const lanes = new Map<string, LogEntry[]>();
    for (const e of log) {
      if (e.key === "") continue;
      const lane = `${e.partition}\u0000${e.key}`;
      const list = lanes.get(lane);
      if (list) list.push(e);
      else lanes.set(lane, [e]);
    }
    const needAckedBy = new Map<PosKey, number>();
    for (const list of lanes.values()) {
      list.sort((a, b) => (a.offset < b.offset ? -1 : 1));
      let prefix = -Infinity;
      for (const e of list) {
        const k = posKey(e.partition, e.offset);
        needAckedBy.set(k, prefix);
        prefix = Math.max(prefix, sentAck.get(k) ?? Infinity);
      }
    }
    for (const d of deliveries) {
      const need = needAckedBy.get(posKey(d.partition, d.offset));
      if (need !== undefined && need > d.seq) {
        violations.push(`${group} (ordered) was given ${posKey(d.partition, d.offset)} of key ${d.key} before an earlier message of the key was acked`);
      }
    }
    violations.push(...checkLanesWithinLifetimes(group, deliveries, history, confirmations));
  }
  return { violations, delivered: deliveries.length, redelivered };
}

/**
 * Within one broker lifetime, per partition and key: once a message was
 * delivered, no later message of its key is delivered until an ack of it
 * was sent (and not reported ignored). A nacked message still holds its key.
 */
function checkLanesWithinLifetimes(
  group: string,
  deliveries: readonly DeliveryEvent[],
  history: History,
  confirmations: ReadonlyMap<bigint, ReadonlySet<PosKey>>,
): string[] {
  const violations: string[] = [];
  type Ev = { seq: number; lifetime: number; deliver?: DeliveryEvent; acked?: PosKey[] };
  const events: Ev[] = deliveries.filter((d) => d.key !== "").map((d) => ({ seq: d.seq, lifetime: d.lifetime, deliver: d }));
  for (const a of history.acksSent) {
    if (a.group !== group) continue;
    const ignored = confirmations.get(a.ackId);
    const acked = a.positions.map((p) => posKey(p.partition, p.offset)).filter((k) => !ignored?.has(k));
    events.push({ seq: a.seq, lifetime: a.lifetime, acked });
  }
  events.sort((x, y) => x.seq - y.seq);
  // lifetime -> lane -> offsets delivered and not acked since
  let lifetime = -1;
  let outstanding = new Map<string, Map<PosKey, bigint>>();
  const laneOf = new Map<PosKey, string>();
  for (const ev of events) {
    if (ev.lifetime !== lifetime) {
      lifetime = ev.lifetime;
      outstanding = new Map();
    }
    if (ev.acked) {
      for (const k of ev.acked) {
        const lane = laneOf.get(k);
        if (lane !== undefined) outstanding.get(lane)?.delete(k);
      }
      continue;
    }
    const d = ev.deliver!;
    const k = posKey(d.partition, d.offset);
    const lane = `${d.partition}\u0000${d.key}`;
    laneOf.set(k, lane);
    let open = outstanding.get(lane);
    if (open === undefined) outstanding.set(lane, (open = new Map()));
    for (const [other, offset] of open) {
      if (offset < d.offset) {
        violations.push(`${group} (ordered) was given ${k} of key ${d.key} in broker life ${lifetime} while ${other} of the same key was delivered and not acked`);
      }
    }
    open.set(k, d.offset);
  }
  return violations;
}

/** Committed offsets sampled by GetGroup never move backwards, per group and partition. */
export function checkCommittedMonotonic(history: History): string[] {
  const violations: string[] = [];
  const last = new Map<string, { committed: bigint; lifetime: number }>();
  for (const s of [...history.samples].sort((a, b) => a.seq - b.seq)) {
    s.committed.forEach((c, p) => {
      const k = `${s.group}/${p}`;
      const prev = last.get(k);
      if (prev !== undefined && c < prev.committed) {
        violations.push(`${s.group} partition ${p}: committed went from ${prev.committed} (life ${prev.lifetime}) back to ${c} (life ${s.lifetime})`);
      }
      last.set(k, { committed: c, lifetime: s.lifetime });
    });
  }
  return violations;
}

/** The first few violations, for an assertion message. */
export function firstFew(violations: readonly string[], n = 10): string {
  return violations.slice(0, n).join("\n") + (violations.length > n ? `\n... and ${violations.length - n} more` : "");
}
