/**
 * Accepting an offset gap (see PostgresStatefulStage, "Offset gaps"): an operator decides that the input
 * records deleted by retention before a stage processed them are gone for good, and the partition goes on
 * from the log start. The ownership epoch is taken too, so the instance that owns the partition drops its
 * copy and restores the moved offset.
 */
import type { KafkaAdminPort } from '../kafka/kafka.port';
import type { Database } from '../postgres/database';

export interface AcceptedGap {
  /** The first record that was never processed. */
  from: string;
  /** The log start: where the partition goes on. */
  to: string;
}

/** Moves the group's stored offset for the partition up to the log start; null when there is no gap. */
export async function acceptOffsetGap(db: Database, admin: KafkaAdminPort, groupId: string, topic: string, partition: number): Promise<AcceptedGap | null> {
  const logStart = await admin.logStartOffset(topic, partition);
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ next_offset: string }>(
      'SELECT next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3 FOR UPDATE', [groupId, topic, partition]);
    if (rows.length === 0) throw new Error(`group ${groupId} has no stored offset for ${topic}[${partition}] (wrong group, topic or partition?)`);
    const from = String(rows[0].next_offset);
    if (from === '-1' || BigInt(from) >= BigInt(logStart)) return null;
    await tx.query('UPDATE consumer_offsets SET next_offset = $4, epoch = epoch + 1, updated_at = now() WHERE group_id = $1 AND topic = $2 AND partition = $3',
      [groupId, topic, partition, logStart]);
    return { from, to: logStart };
  });
}
