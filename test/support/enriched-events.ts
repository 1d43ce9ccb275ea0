/** Writing `events.enriched` records directly (the aggregate stage's input) and reading its committed offsets. */
import type { Database } from '@streamguard/common';
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
