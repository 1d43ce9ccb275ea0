/**
 * Message values on every topic. All are JSON objects with a `schemaVersion`; consumers reject (to the DLQ)
 * versions they do not know. The Kafka message key is the `accountId` on every event topic, so all state of
 * one account lives in one partition.
 */
import type { TransactionEvent } from './transaction-event';
import { fitsUtf8Bytes } from '@streamguard/stream-core';

/** `events.raw`: an accepted event plus ingest metadata. */
export interface RawEventMessage extends TransactionEvent {
  schemaVersion: 1;
  /** The tenant of the API key that sent the event (never taken from the request body). */
  tenantId: string;
  /** When ingest accepted the event (processing time, epoch ms): the start of end-to-end latency. */
  receivedAt: number;
}

export interface AccountProfile {
  homeCountry: string | null;
  riskTier: string | null;
  openedAt: string | null;
}

export interface MerchantProfile {
  name: string | null;
  mcc: string | null;
  country: string | null;
  riskScore: number | null;
  /** Free-text category (e.g. "grocery"), next to the ISO 18245 `mcc`. Absent in messages written before it existed. */
  category?: string | null;
}

export type BlocklistKind = 'merchant' | 'card' | 'device' | 'ip' | 'country';

export interface BlocklistHit {
  kind: BlocklistKind;
  value: string;
  reason: string;
}

/** Why an enriched field is missing: reference data gaps never drop an event, they are flagged. */
export type EnrichmentFlag = 'ACCOUNT_UNKNOWN' | 'MERCHANT_UNKNOWN' | 'FX_RATE_MISSING';

/**
 * Fields computed from the event and its reference data. Each is `null` when an input is missing (unknown
 * account, no `country`, no `location`, no `deviceId`, …): null means "cannot tell", never "no".
 */
export interface DerivedFields {
  /** Event `country` differs from the account's home country. */
  homeCountryMismatch: boolean | null;
  /** Great-circle km from the event `location` to the centroid of the account's home country, whole km. */
  distanceFromHomeKm: number | null;
  /** First event with this `deviceId` for this account (the same answer when a batch is replayed). */
  newDevice: boolean | null;
  /** Whole days from the account's opening date (00:00 UTC) to the event time; negative if the event is earlier. */
  accountAgeDays: number | null;
}

/** `events.enriched`. */
export interface EnrichedEventMessage extends Omit<RawEventMessage, 'schemaVersion'> {
  schemaVersion: 1;
  /** `amount` converted to USD; `null` when no FX rate is known for `currency` (see `flags`). */
  amountUsd: number | null;
  account: AccountProfile | null;
  merchant: MerchantProfile | null;
  blocklistHits: BlocklistHit[];
  flags: EnrichmentFlag[];
  /** Absent in messages written before derived fields existed. */
  derived?: DerivedFields;
  enrichedAt: number;
}

/** `aggregates`: one window result. Keyed by `groupKey`. */
export interface AggregateResultMessage {
  schemaVersion: 1;
  /** The tenant whose events the window holds: every definition is grouped by `tenantId` first. */
  tenantId: string;
  definition: string;
  /** Starts with the tenant: `acme|acc-1`. */
  groupKey: string;
  /** The group-by fields, `tenantId` included. */
  group: Record<string, unknown>;
  windowType: string;
  windowStart: number;
  windowEnd: number;
  values: Record<string, number | string | null>;
  count: number;
  version: number;
  final: boolean;
  emittedAt: number;
}

/** `alerts`: one fraud alert. Keyed by `accountId`; `alertId` is deterministic, so replays never duplicate it. */
export interface AlertMessage {
  schemaVersion: 1;
  /** The triggering event's tenant (a global rule fires separately for each tenant). */
  tenantId: string;
  alertId: string;
  ruleId: string;
  ruleVersion: number;
  ruleType: string;
  severity: string;
  accountId: string;
  /** Starts with the tenant: `tenantId=acme|accountId=acc-1`. */
  groupKey: string;
  eventIds: string[];
  occurredAt: number;
  detectedAt: number;
  explanation: { summary: string; params: Record<string, unknown>; observed: Record<string, unknown> };
}

/** `events.late`: an event a window definition refused, with the reason. */
export interface LateEventMessage {
  schemaVersion: 1;
  reason: 'TOO_LATE' | 'FUTURE_TS';
  definition: string | null;
  windowStart: number | null;
  windowEnd: number | null;
  watermark: number | null;
  eventId: string;
  eventTime: number;
  source: { topic: string; partition: number; offset: string };
  event: unknown;
}

/** Largest late report (UTF-8 bytes) published with its event; a bigger one goes out with `event: null`. */
export const MAX_LATE_REPORT_BYTES = 512 * 1024;

/**
 * A late report as published. `event` is the parsed event serialised again, which can be several times the size
 * of the record it came from (`1e20` was 4 bytes, becomes 21), and a report over its topic's limit could never be
 * published and would hold back every output after it. So a report over MAX_LATE_REPORT_BYTES carries
 * `event: null`; `source` still names the record.
 */
export function serializeLateReport(message: LateEventMessage): string {
  const json = JSON.stringify(message);
  if (fitsUtf8Bytes(json, MAX_LATE_REPORT_BYTES)) return json;
  return JSON.stringify({ ...message, event: null });
}

/**
 * Headers on every `events.repartition` record. Its key is `<definition>|<groupKey>`, its value the
 * `events.enriched` value byte for byte; the headers say which window definition it is for and where it came
 * from (late reports name the original record).
 */
export const REPARTITION_HEADERS = {
  definition: 'x-window-definition',
  sourceTopic: 'x-source-topic',
  sourcePartition: 'x-source-partition',
  sourceOffset: 'x-source-offset',
  /** The source record's Kafka timestamp: stage 2 judges FUTURE_TS against it, as stage 1 did. */
  sourceTimestamp: 'x-source-timestamp',
} as const;

/**
 * Headers on every record a Postgres stage publishes through its outbox (`aggregates`, `alerts`, its DLQ and
 * late records): which input partition's outbox it came from and its number there. A record with the same pair
 * twice on a topic was published twice; two copies with different pairs were produced twice.
 */
export const OUTBOX_HEADERS = {
  sourcePartition: 'x-outbox-source-partition',
  seq: 'x-outbox-seq',
} as const;

/**
 * Largest record a stage decodes (UTF-8 bytes of key, header names and values, and value), and the most of its
 * value a DLQ copy carries. Our own events are a few kB; a bigger record can only come from a foreign producer
 * (or compression: the broker's 1 MiB limit applies to compressed batches). Passed on whole, it could exceed
 * the limit of the topic an output goes to, and an output that can never be published would hold back
 * everything after it. Such a record is RECORD_TOO_LARGE. Its DLQ copy holds the first DLQ_MAX_VALUE_BYTES of its
 * value, and no key or original headers when those alone are over DLQ_MAX_KEY_AND_HEADER_BYTES; the origin
 * headers say where the whole record is.
 */
export const MAX_RECORD_BYTES = 256 * 1024;
export const DLQ_MAX_VALUE_BYTES = MAX_RECORD_BYTES;
export const DLQ_MAX_KEY_AND_HEADER_BYTES = 64 * 1024;

/**
 * Headers on every `events.dlq` record. The value is the original record's value, byte for byte, so the
 * record can be replayed after a fix; only a value over DLQ_MAX_VALUE_BYTES is cut to its first
 * DLQ_MAX_VALUE_BYTES (`x-value-truncated-from` gives the original size), and a key and original headers over
 * DLQ_MAX_KEY_AND_HEADER_BYTES together are left out (`x-key-and-headers-dropped` gives their size).
 */
export const DLQ_HEADERS = {
  originTopic: 'x-origin-topic',
  originPartition: 'x-origin-partition',
  originOffset: 'x-origin-offset',
  originTimestamp: 'x-origin-timestamp',
  consumerGroup: 'x-consumer-group',
  errorClass: 'x-error-class',
  errorCode: 'x-error-code',
  errorMessage: 'x-error-message',
  failedAt: 'x-failed-at',
  valueTruncatedFrom: 'x-value-truncated-from',
  keyAndHeadersDropped: 'x-key-and-headers-dropped',
} as const;
