/** Records in, results out: the data types crossing the operator boundary. */
import type { WindowType } from './window-definition';

export interface TimedRecord {
  /** The event's id: deduplication key (per partition) unless `dedupKey` is given; echoed in late / invalid reports. */
  eventId: string;
  /**
   * What makes two records duplicates, when `eventId` alone does not (default: `eventId`). Multi-tenant callers
   * pass `tenantDedupKey(tenantId, eventId)`: event ids are unique only within a tenant.
   */
  dedupKey?: string;
  /** Event time, epoch ms. */
  eventTime: number;
  /** The event; group-by and aggregation fields are read from here. */
  value: Readonly<Record<string, unknown>>;
  /** Kafka offset, only echoed in late / invalid reports. */
  offset: string;
  /**
   * When the pipeline first saw the record (its Kafka timestamp), epoch ms. The FUTURE_TS check compares the
   * event time with this instead of the clock when given, so every stage that reads the same record — and
   * every replay of it — decides the same way.
   */
  observedAt?: number;
  /**
   * When ingest accepted the record (`receivedAt`), epoch ms: the time progress markers are in, used by the
   * idle rule. Defaults to `observedAt`, then the clock.
   */
  ingestTime?: number;
  /**
   * Apply the record to this definition only (default: every definition). A repartitioned input carries one
   * record per definition and group; naming a definition the operator does not run makes the record invalid.
   */
  definition?: string;
}

export interface WindowResult {
  definition: string;
  /** `String(value)` of each group-by field, `\` and `|` backslash-escaped, joined by `|` (see encodeGroupKey). */
  groupKey: string;
  group: Record<string, unknown>;
  windowType: WindowType;
  /**
   * `[windowStart, windowEnd)`. Sessions: [first event, last event + gap). Sliding: [t - size, t + 1).
   * Count: [earliest event time, latest event time + 1) of its records.
   */
  windowStart: number;
  windowEnd: number;
  values: Record<string, number | string | null>;
  /** Records in the window. */
  count: number;
  /** Sequence number of this result for this window: 1, 2, 3…; 'final' mode emits only version 1. */
  version: number;
  /** True for the closing result; nothing more is emitted for this window afterwards. */
  final: boolean;
  eventIds?: never;
}

export type LateReason = 'TOO_LATE' | 'FUTURE_TS';

export interface LateRecord {
  reason: LateReason;
  eventId: string;
  eventTime: number;
  offset: string;
  /** Partition watermark when the record was rejected (-Infinity before any record). */
  watermark: number;
  /** TOO_LATE only: the definition and its latest window that rejected the record. */
  definition?: string;
  windowStart?: number;
  windowEnd?: number;
}

export interface InvalidRecord {
  eventId: string;
  offset: string;
  reason: string;
  /** Set when the record is invalid for one definition only (missing group-by / non-numeric field). */
  definition?: string;
}

export interface DrainedOutput {
  results: WindowResult[];
  late: LateRecord[];
  invalid: InvalidRecord[];
  /** Records ignored as repeats of an already counted eventId since the last drain. */
  duplicates: number;
}
