/**
 * `events.enriched` values and records for tests of the stages that read them (imported by specs as
 * `@streamguard/common/testing/enriched-records`; not part of the library's public index).
 */
import type { InboundRecord } from '../kafka/kafka.port';

export interface EnrichedFields {
  eventId: string;
  accountId: string;
  occurredAt: number;
  amountUsd: number;
  merchantId?: string;
}

/** An `events.enriched` value with no reference data (every lookup missed); no `tenantId` = the legacy tenant. */
export function enrichedValue(e: EnrichedFields, tenantId?: string): Record<string, unknown> {
  return {
    schemaVersion: 1, ...(tenantId === undefined ? {} : { tenantId }), eventId: e.eventId, occurredAt: e.occurredAt, accountId: e.accountId,
    amount: e.amountUsd, currency: 'USD', merchantId: e.merchantId ?? 'mer-1', receivedAt: e.occurredAt, amountUsd: e.amountUsd,
    account: null, merchant: null, blocklistHits: [], flags: [], enrichedAt: e.occurredAt,
  };
}

let offset = 0;

/** One `events.enriched` record of partition 0 (offsets increase per call), keyed by account. */
export function enrichedRecord(tenantId: string, eventId: string, t: number, amountUsd = 10, accountId = 'acc-1'): InboundRecord {
  offset += 1;
  const value = enrichedValue({ eventId, accountId, occurredAt: t, amountUsd, merchantId: 'm-1' }, tenantId);
  return { topic: 'events.enriched', partition: 0, offset: String(offset), key: accountId, value: Buffer.from(JSON.stringify(value)), headers: {}, timestamp: t };
}
