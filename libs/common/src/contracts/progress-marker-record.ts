/**
 * Progress markers on `events.raw`, `events.enriched` and `events.repartition` (see SEMANTICS.md "Time that
 * flows in-band"): records that carry processing time in order with the data, so that a stalled upstream can
 * never make downstream records late. A marker record has the header {@link PROGRESS_MARKER_HEADER}, no key,
 * an explicit partition and a ProgressMarker JSON value. Every reader of these topics must skip such records
 * (ours do it when decoding); they are never events.
 */
import { checkProgressMarker, type ProgressMarker } from '@streamguard/stream-core';
import type { InboundRecord, OutboundRecord } from '../kafka/kafka.port';
import { PoisonRecordError } from '../stream/processing-error';

export const PROGRESS_MARKER_HEADER = 'x-streamguard-progress';

export function isProgressMarkerRecord(record: Pick<InboundRecord, 'headers'>): boolean {
  return record.headers[PROGRESS_MARKER_HEADER] !== undefined;
}

export function progressMarkerRecord(topic: string, partition: number, marker: ProgressMarker): OutboundRecord {
  return { topic, partition, key: null, value: JSON.stringify(marker), headers: { [PROGRESS_MARKER_HEADER]: '1' } };
}

/** Throws PoisonRecordError for a marker record whose value is not a marker (→ DLQ, the partition goes on). */
export function decodeProgressMarker(record: Pick<InboundRecord, 'value'>): ProgressMarker {
  try {
    return checkProgressMarker(JSON.parse(record.value?.toString('utf8') ?? 'null'));
  } catch (error) {
    throw new PoisonRecordError('INVALID_PROGRESS_MARKER', (error as Error).message);
  }
}
