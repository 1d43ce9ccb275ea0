import type { InboundRecord, OutboundRecord } from '../kafka/kafka.port';
import { DLQ_HEADERS, DLQ_MAX_KEY_AND_HEADER_BYTES, DLQ_MAX_VALUE_BYTES, MAX_RECORD_BYTES } from '../contracts/messages';
import { mayHoldUnstorableText, unstorableTextPath, UNPAIRED_SURROGATE } from '../contracts/storable-text';
import { PoisonRecordError } from './processing-error';
import { decodeProgressMarker, isProgressMarkerRecord } from '../contracts/progress-marker-record';
import type { ProgressMarker } from '@streamguard/stream-core';

/** The domain view of one consumed record: adapters translate once, use cases never see client types. */
export interface DecodedRecord<V> {
  key: string | null;
  value: V;
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
}

/**
 * Parses a JSON message value with a known `schemaVersion`. Throws PoisonRecordError (→ DLQ) for anything
 * that cannot be decoded; `validate` may throw PoisonRecordError too.
 */
export function decodeJsonRecord<V>(record: InboundRecord, validate: (json: Record<string, unknown>) => V, supportedVersions: readonly number[] = [1]): DecodedRecord<V> {
  if (!record.value || record.value.length === 0) throw new PoisonRecordError('EMPTY_VALUE', 'record has no value');
  const size = record.value.length + keyAndHeaderBytes(record);
  if (size > MAX_RECORD_BYTES) {
    throw new PoisonRecordError('RECORD_TOO_LARGE', `record is ${size} bytes (key, headers and value); at most ${MAX_RECORD_BYTES} are processed`);
  }
  let json: unknown;
  const text = record.value.toString('utf8');
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PoisonRecordError('INVALID_JSON', `value is not JSON: ${(error as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new PoisonRecordError('NOT_AN_OBJECT', 'value is not a JSON object');
  // Refused here, before any stage logic, rather than by Postgres at commit: there it would fail the whole batch
  // on every retry and stall the partition. Our own producers never write such text (ingest refuses it).
  if (mayHoldUnstorableText(text)) {
    const path = unstorableTextPath(json);
    if (path !== undefined) throw new PoisonRecordError('UNSTORABLE_TEXT', `${path} contains U+0000 or an unpaired surrogate, which Postgres cannot store`);
  }
  const version = (json as { schemaVersion?: unknown }).schemaVersion;
  if (typeof version !== 'number' || !supportedVersions.includes(version)) {
    throw new PoisonRecordError('UNSUPPORTED_SCHEMA_VERSION', `schemaVersion ${JSON.stringify(version)} is not one of ${supportedVersions.join(', ')}`);
  }
  return {
    key: record.key, value: validate(json as Record<string, unknown>),
    topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp,
  };
}

const UNPAIRED_SURROGATES = new RegExp(UNPAIRED_SURROGATE.source, 'g');

/** UTF-8 bytes of a record's key and header names and values (as they were on the wire). */
function keyAndHeaderBytes(record: InboundRecord): number {
  let bytes = record.key === null ? 0 : Buffer.byteLength(record.key);
  for (const [name, value] of Object.entries(record.headers)) bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  return bytes;
}

/** A DLQ record: the original value byte for byte (at most its first DLQ_MAX_VALUE_BYTES), plus headers naming where it came from and why it failed. */
export function toDlqRecord(dlqTopic: string, record: InboundRecord, groupId: string, error: Error, now: number): OutboundRecord {
  // Header values travel through Postgres (jsonb) in the stateful stages, which refuses U+0000 and unpaired
  // surrogates; an error message can echo the poison input, so replace them.
  const clean = (text: string) => text.replace(/\u0000/g, '\uFFFD').replace(UNPAIRED_SURROGATES, '\uFFFD');
  const keyAndHeaders = keyAndHeaderBytes(record);
  const dropKeyAndHeaders = keyAndHeaders > DLQ_MAX_KEY_AND_HEADER_BYTES;
  const headers: Record<string, string> = {};
  if (!dropKeyAndHeaders) for (const [k, v] of Object.entries(record.headers)) headers[clean(k)] = clean(v);
  // A record replayed from the DLQ: its notes say nothing about this copy.
  delete headers[DLQ_HEADERS.valueTruncatedFrom];
  delete headers[DLQ_HEADERS.keyAndHeadersDropped];
  const value = record.value ?? Buffer.alloc(0);
  const truncated = value.length > DLQ_MAX_VALUE_BYTES;
  return {
    topic: dlqTopic,
    key: dropKeyAndHeaders ? null : record.key,
    value: truncated ? value.subarray(0, DLQ_MAX_VALUE_BYTES) : value,
    headers: {
      ...headers,
      ...(truncated ? { [DLQ_HEADERS.valueTruncatedFrom]: String(value.length) } : {}),
      ...(dropKeyAndHeaders ? { [DLQ_HEADERS.keyAndHeadersDropped]: String(keyAndHeaders) } : {}),
      [DLQ_HEADERS.originTopic]: record.topic,
      [DLQ_HEADERS.originPartition]: String(record.partition),
      [DLQ_HEADERS.originOffset]: record.offset,
      [DLQ_HEADERS.originTimestamp]: String(record.timestamp),
      [DLQ_HEADERS.consumerGroup]: groupId,
      [DLQ_HEADERS.errorClass]: error.name,
      [DLQ_HEADERS.errorCode]: String((error as { code?: unknown }).code ?? 'UNKNOWN'),
      [DLQ_HEADERS.errorMessage]: clean(error.message.slice(0, 1000)),
      [DLQ_HEADERS.failedAt]: new Date(now).toISOString(),
    },
  };
}

export interface DecodedBatch<V> {
  decoded: Array<{ record: InboundRecord; value: V }>;
  /** Progress markers of the batch (see progress-marker-record.ts): not events, never dead-lettered when valid. */
  progress: ProgressMarker[];
  /** Records that can never be processed, with why (→ DLQ). */
  rejected: Array<{ offset: string; error: Error }>;
}

/** Decodes every record of a batch, setting aside (not throwing for) the undecodable ones and the progress markers. */
export function decodeBatch<V>(records: InboundRecord[], validate: (json: Record<string, unknown>) => V): DecodedBatch<V> {
  const batch: DecodedBatch<V> = { decoded: [], progress: [], rejected: [] };
  for (const record of records) {
    try {
      if (isProgressMarkerRecord(record)) batch.progress.push(decodeProgressMarker(record));
      else batch.decoded.push({ record, value: decodeJsonRecord(record, validate).value });
    } catch (error) {
      batch.rejected.push({ offset: record.offset, error: error as Error });
    }
  }
  return batch;
}
