/**
 * Decoders for messages read from topics. A message that fails them is poison: it goes to the DLQ with the
 * reason, never silently dropped and never allowed to stop its partition.
 */
import { TENANT_ID_PATTERN } from '../auth/api-key';
import { PoisonRecordError } from '../stream/processing-error';
import type { EnrichedEventMessage, RawEventMessage } from './messages';
import { EVENT_LIMITS, FieldViolation, validateTransactionEvent } from './transaction-event';

function describe(violations: FieldViolation[]): string {
  return violations.map((v) => `${v.field || 'event'} ${v.reason}`).join('; ');
}

/** Tenant of messages written before tenants existed. */
export const LEGACY_TENANT = 'default';

/** `tenantId` of a message: absent means {@link LEGACY_TENANT}; anything else must be a valid tenant id. */
function tenantOf(json: Record<string, unknown>, code: string): string {
  const tenantId = json.tenantId ?? LEGACY_TENANT;
  if (typeof tenantId !== 'string' || !TENANT_ID_PATTERN.test(tenantId)) throw new PoisonRecordError(code, `tenantId must match ${TENANT_ID_PATTERN.source}`);
  return tenantId;
}

export function parseRawEventMessage(json: Record<string, unknown>): RawEventMessage {
  const { schemaVersion: _version, receivedAt, tenantId: _tenant, ...event } = json;
  const tenantId = tenantOf(json, 'INVALID_EVENT');
  const violations: FieldViolation[] = [];
  const valid = validateTransactionEvent(event, 0, violations);
  if (!valid) throw new PoisonRecordError('INVALID_EVENT', describe(violations));
  if (typeof receivedAt !== 'number' || !Number.isFinite(receivedAt)) throw new PoisonRecordError('INVALID_EVENT', 'receivedAt must be epoch milliseconds');
  return { schemaVersion: 1, tenantId, ...valid, receivedAt };
}

/**
 * Event times a stage can store (timestamptz holds 4713 BC to 294276 AD; JavaScript dates ±273,790 years): years
 * 1 to 9999. Ingest accepts far less (2000 to 2200); this bound only keeps a foreign record from failing every
 * commit of its batch — a window or alert at year -300,000 would.
 */
export const STORABLE_EVENT_TIME = {
  min: -62_135_596_800_000, // 0001-01-01T00:00:00Z
  max: 253_402_300_800_000, // 10000-01-01T00:00:00Z (exclusive)
} as const;

export function parseEnrichedEventMessage(json: Record<string, unknown>): EnrichedEventMessage {
  const problems: string[] = [];
  if (typeof json.eventId !== 'string' || json.eventId === '') problems.push('eventId must be a non-empty string');
  if (typeof json.accountId !== 'string' || json.accountId === '') problems.push('accountId must be a non-empty string');
  // Ids become parts of Postgres keys and index entries (an index entry holds at most about 2.7 kB): the same
  // bound as ingest's, so a foreign record cannot fail every commit of its batch.
  for (const field of ['eventId', 'accountId', 'merchantId'] as const) {
    const value = json[field];
    if (typeof value === 'string' && value.length > EVENT_LIMITS.idMaxLength) problems.push(`${field} must be at most ${EVENT_LIMITS.idMaxLength} characters`);
  }
  if (typeof json.occurredAt !== 'number' || !Number.isFinite(json.occurredAt)) problems.push('occurredAt must be epoch milliseconds');
  else if (json.occurredAt < STORABLE_EVENT_TIME.min || json.occurredAt >= STORABLE_EVENT_TIME.max) problems.push('occurredAt must be within years 1 to 9999');
  if (typeof json.amount !== 'number' || !Number.isFinite(json.amount)) problems.push('amount must be a number');
  if (json.amountUsd !== null && (typeof json.amountUsd !== 'number' || !Number.isFinite(json.amountUsd))) problems.push('amountUsd must be a number or null');
  if (!Array.isArray(json.blocklistHits)) problems.push('blocklistHits must be an array');
  if (!Array.isArray(json.flags)) problems.push('flags must be an array');
  if (problems.length > 0) throw new PoisonRecordError('INVALID_ENRICHED_EVENT', problems.join('; '));
  json.tenantId = tenantOf(json, 'INVALID_ENRICHED_EVENT'); // in place: this runs for every event of the alert stage
  return json as unknown as EnrichedEventMessage;
}
