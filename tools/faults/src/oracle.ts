/**
 * Topic records as the suite reads them back, and the suite's own reading of them: plain JSON, no decoder of
 * the system's. The oracle proper (windows, alerts) is reference.ts.
 */

import { inLogOrder } from './reference';

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

export interface JsonRecord {
  record: TopicRecord;
  json: Record<string, unknown>;
  eventId: string;
}

export interface ReadTopic {
  /** JSON objects with a string eventId. */
  valid: JsonRecord[];
  /** Anything else (a planted poison record, or a violation). */
  invalid: Array<{ record: TopicRecord; reason: string }>;
}

/** Reads event records with JSON.parse only, in log order. */
export function readEventRecords(records: TopicRecord[]): ReadTopic {
  const out: ReadTopic = { valid: [], invalid: [] };
  for (const record of inLogOrder(records)) {
    let json: unknown;
    try {
      json = JSON.parse(record.value ?? '');
    } catch (error) {
      out.invalid.push({ record, reason: `not JSON: ${(error as Error).message}` });
      continue;
    }
    const eventId = (json as { eventId?: unknown } | null)?.eventId;
    if (typeof json !== 'object' || json === null || Array.isArray(json) || typeof eventId !== 'string') out.invalid.push({ record, reason: 'not an object with a string eventId' });
    else out.valid.push({ record, json: json as Record<string, unknown>, eventId });
  }
  return out;
}
