/** Writing `events.enriched` records directly (the aggregate stage's input) and reading its committed offsets. */
import type { Database } from '@streamguard/common';

export interface EnrichedTestEvent {
  eventId: string;
  accountId: string;
  occurredAt: number;
  amountUsd: number;
  merchantId?: string;
}

/** An `events.enriched` value with no reference data (all lookups missed); `tenantId` absent = the legacy tenant. */
export function enrichedMessage(e: EnrichedTestEvent, tenantId?: string): string {
  return JSON.stringify({
    schemaVersion: 1, ...(tenantId === undefined ? {} : { tenantId }), eventId: e.eventId, occurredAt: e.occurredAt, accountId: e.accountId,
    amount: e.amountUsd, currency: 'USD', merchantId: e.merchantId ?? 'mer-1', receivedAt: e.occurredAt, amountUsd: e.amountUsd,
    account: null, merchant: null, blocklistHits: [], flags: [], enrichedAt: e.occurredAt,
  });
}

/** Records of `topic` whose processing consumer group `groupId` has committed in Postgres (sum of next offsets). */
export async function committedRecords(db: Database, groupId: string, topic: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    'SELECT coalesce(sum(next_offset), 0) AS n FROM consumer_offsets WHERE group_id = $1 AND topic = $2 AND next_offset > 0', [groupId, topic]);
  return Number(rows[0].n);
}
