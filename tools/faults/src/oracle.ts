/**
 * The oracle: what an uninterrupted, exactly-once pipeline must have produced from what really entered it.
 *
 * It does not trust the services' own bookkeeping. Windows, late records and alerts are recomputed from the
 * `events.enriched` records as read back (read_committed), per partition in offset order — the order every
 * stage sees — with the same decoder, the same event-time rules (per-record watermark = max event time seen
 * minus the bound; a window closes when the watermark reaches its end; lateness 0) and the real RuleEngine.
 * Because each stage is deterministic given that order, crashes, restarts and rebalances must not change
 * the result: any difference from the oracle is a guarantee violation.
 */
import { decodeJsonRecord, EnrichedEventMessage, InboundRecord, parseEnrichedEventMessage, parseRawEventMessage, RawEventMessage } from '@streamguard/common';
import { InMemoryRuleStateStore, RuleDefinition, RuleEngine, tenantScopedRule } from '@streamguard/stream-core';

/** One record as read back from a topic (value as UTF-8 text). */
export interface TopicRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** Header the suite puts on every poison record it produces, so it can be found again (DLQ copies headers). */
export const POISON_HEADER = 'x-fault-poison-id';

export interface Decoded<V> {
  record: TopicRecord;
  value: V;
}

export interface DecodedTopic<V> {
  valid: Decoded<V>[];
  /** Records the services' own decoder rejects: they belong in the DLQ. */
  invalid: Array<{ record: TopicRecord; error: Error }>;
}

function toInbound(record: TopicRecord): InboundRecord {
  return { ...record, value: record.value === null ? null : Buffer.from(record.value, 'utf8'), timestamp: 0 };
}

/** Per partition, in offset order. */
export function inLogOrder<T extends { partition: number; offset: string }>(records: T[]): T[] {
  return [...records].sort((a, b) => a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : BigInt(a.offset) > BigInt(b.offset) ? 1 : 0));
}

function decodeAll<V>(records: TopicRecord[], parse: (json: Record<string, unknown>) => V): DecodedTopic<V> {
  const out: DecodedTopic<V> = { valid: [], invalid: [] };
  for (const record of inLogOrder(records)) {
    try {
      out.valid.push({ record, value: decodeJsonRecord(toInbound(record), parse).value });
    } catch (error) {
      out.invalid.push({ record, error: error as Error });
    }
  }
  return out;
}

export const decodeRaw = (records: TopicRecord[]): DecodedTopic<RawEventMessage> => decodeAll(records, parseRawEventMessage);
export const decodeEnriched = (records: TopicRecord[]): DecodedTopic<EnrichedEventMessage> => decodeAll(records, parseEnrichedEventMessage);

/** A tumbling per-account window definition with `count` and `sumUsd`, allowed lateness 0, emit final. */
export interface WindowSpec {
  name: string;
  sizeMs: number;
  maxOutOfOrdernessMs: number;
}

export interface ExpectedWindow {
  accountId: string;
  windowStart: number;
  windowEnd: number;
  count: number;
  sumUsd: number;
}

export interface WindowOracle {
  /** Closed windows (final results that must be in Postgres and on the topic), by `windowKey`. */
  closed: Map<string, ExpectedWindow>;
  /** Events counted in windows still open at the end (the final flush events). */
  openCount: number;
  /** Records that must be reported TOO_LATE, as `partition:offset`. */
  late: Set<string>;
  /** Valid records ignored as repeats of an eventId already counted in an open window. */
  duplicates: number;
  /** Final watermark per partition. */
  watermarks: Map<number, number>;
}

export function windowKey(accountId: string, windowStart: number): string {
  return `${accountId}@${windowStart}`;
}

export function sourceKey(partition: number, offset: string): string {
  return `${partition}:${offset}`;
}

/**
 * Replays the aggregate's event-time semantics for one tumbling definition. Per partition, per record:
 * a repeat of an eventId whose window is still open is ignored; a record whose window has closed
 * (watermark >= end) is TOO_LATE; otherwise it is counted. Then the watermark moves to
 * max(event time) − bound. Windows with end <= the final watermark are closed.
 */
export function computeWindows(events: Decoded<EnrichedEventMessage>[], spec: WindowSpec): WindowOracle {
  const windows = new Map<string, ExpectedWindow & { partition: number }>();
  const late = new Set<string>();
  const watermarks = new Map<number, number>();
  const maxTime = new Map<number, number>();
  const counted = new Map<string, number>(); // eventId → window end
  let duplicates = 0;
  for (const { record, value } of inLogOrder(events.map((e) => ({ ...e, partition: e.record.partition, offset: e.record.offset })))) {
    const p = record.partition;
    const watermark = (maxTime.get(p) ?? -Infinity) - spec.maxOutOfOrdernessMs;
    const start = Math.floor(value.occurredAt / spec.sizeMs) * spec.sizeMs;
    const end = start + spec.sizeMs;
    const countedEnd = counted.get(value.eventId);
    if (countedEnd !== undefined && watermark < countedEnd) {
      duplicates += 1;
    } else if (watermark >= end) {
      late.add(sourceKey(p, record.offset));
    } else {
      const key = windowKey(value.accountId, start);
      const w = windows.get(key) ?? { accountId: value.accountId, windowStart: start, windowEnd: end, count: 0, sumUsd: 0, partition: p };
      w.count += 1;
      w.sumUsd += value.amountUsd ?? 0;
      windows.set(key, w);
      counted.set(value.eventId, end);
    }
    maxTime.set(p, Math.max(maxTime.get(p) ?? -Infinity, value.occurredAt));
  }
  for (const [p, t] of maxTime) watermarks.set(p, t - spec.maxOutOfOrdernessMs);
  const closed = new Map<string, ExpectedWindow>();
  let openCount = 0;
  for (const [key, { partition, ...w }] of windows) {
    if (w.windowEnd <= (watermarks.get(partition) ?? -Infinity)) closed.set(key, w);
    else openCount += w.count;
  }
  return { closed, openCount, late, duplicates, watermarks };
}

export interface ExpectedAlert {
  alertId: string;
  ruleId: string;
  accountId: string;
  eventId: string;
}

/** The real rule engine, one per partition (as the alert service keeps it), over the records in log order. */
export function computeAlerts(events: Decoded<EnrichedEventMessage>[], rules: RuleDefinition[]): Map<string, ExpectedAlert> {
  const engines = new Map<number, RuleEngine>();
  const alerts = new Map<string, ExpectedAlert>();
  for (const { record, value } of inLogOrder(events.map((e) => ({ ...e, partition: e.record.partition, offset: e.record.offset })))) {
    let engine = engines.get(record.partition);
    if (!engine) {
      engine = new RuleEngine(new InMemoryRuleStateStore());
      engine.setRules(rules.map(tenantScopedRule)); // as the alert service does: state per tenant
      engines.set(record.partition, engine);
    }
    for (const c of engine.evaluate({ eventId: value.eventId, eventTime: value.occurredAt, accountId: value.accountId, tenantId: value.tenantId, value: value as unknown as Record<string, unknown> })) {
      alerts.set(c.alertId, { alertId: c.alertId, ruleId: c.ruleId, accountId: c.accountId, eventId: c.eventIds[c.eventIds.length - 1] });
    }
  }
  return alerts;
}
