/** Writing `events.enriched` records directly (the aggregate stage's input) and reading its committed offsets. */
import type { Database, RecordProducer } from '@streamguard/common';
import { type EnrichedFields, enrichedValue } from '@streamguard/common/testing/enriched-records';

/** An `events.enriched` value with no reference data (all lookups missed); `tenantId` absent = the legacy tenant. */
export function enrichedMessage(e: EnrichedFields, tenantId?: string): string {
  return JSON.stringify(enrichedValue(e, tenantId));
}

/** Records of `topic` whose processing consumer group `groupId` has committed in Postgres (sum of next offsets). */
export async function committedRecords(db: Database, groupId: string, topic: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    'SELECT coalesce(sum(next_offset), 0) AS n FROM consumer_offsets WHERE group_id = $1 AND topic = $2 AND next_offset > 0', [groupId, topic]);
  return Number(rows[0].n);
}

/**
 * Brute-force tumbling-window totals, independent of the window operator: each eventId counts once (its first
 * occurrence), in the window `[t − t mod size, …)` of group `groupOf(e)`. Keys are `<group>@<window start>`.
 */
export function tumblingWindowTotals<E extends EnrichedFields>(events: E[], groupOf: (e: E) => string, sizeMs: number): Map<string, { count: number; sum: number }> {
  const windows = new Map<string, { count: number; sum: number }>();
  const seen = new Set<string>();
  for (const e of events) {
    if (seen.has(e.eventId)) continue;
    seen.add(e.eventId);
    const key = `${groupOf(e)}@${e.occurredAt - (e.occurredAt % sizeMs)}`;
    const w = windows.get(key) ?? { count: 0, sum: 0 };
    w.count += 1;
    w.sum += e.amountUsd;
    windows.set(key, w);
  }
  return windows;
}

/** The events with redeliveries: each one is sent a second time, right after itself, with probability `share`. */
export function withRedeliveries<E>(events: E[], random: () => number, share = 0.05): E[] {
  const stream: E[] = [];
  for (const e of events) {
    stream.push(e);
    if (random() < share) stream.push(e);
  }
  return stream;
}

/** Sends `stream` to `events.enriched` (keyed by account) in pieces, remembering how far it got. */
export function enrichedSender<E extends EnrichedFields>(producer: RecordProducer, topic: string, stream: E[], toMessage: (e: E) => string) {
  let sent = 0;
  return {
    get sent(): number {
      return sent;
    },
    async send(n: number): Promise<void> {
      const slice = stream.slice(sent, sent + n);
      await producer.send(slice.map((e) => ({ topic, key: e.accountId, value: toMessage(e) })));
      sent += slice.length;
    },
  };
}
