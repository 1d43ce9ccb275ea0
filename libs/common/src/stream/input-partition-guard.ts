/**
 * A Postgres stage's keyed state is partitioned like its input topic: key k lives in the state of partition
 * murmur2(k) mod N. If the topic gains partitions, new records of k land on another partition, whose state
 * knows nothing of k — windows and rule state would split silently. Kafka cannot shrink a topic and we do not
 * move keyed state between partitions, so the stage records N on its first start and refuses to start when the
 * topic's count differs. The outbox marker topic is checked the same way: a marker is found by hashing its key
 * over that topic's partitions.
 */
import type { KafkaAdminPort } from '../kafka/kafka.port';
import type { Database } from '../postgres/database';

export class InputPartitionsChangedError extends Error {
  readonly code = 'INPUT_PARTITIONS_CHANGED';
  /** Retrying cannot help: the stage must not start until an operator acts. */
  readonly fatal = true;
}

/** Records the input topic's partition count for the group on first use; throws InputPartitionsChangedError when it changed. */
export async function checkInputPartitions(db: Database, admin: KafkaAdminPort, groupId: string, topic: string): Promise<number> {
  const current = await admin.partitionCount(topic);
  await db.query('INSERT INTO stage_input_partitions (group_id, topic, partitions) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [groupId, topic, current]);
  const { rows } = await db.query<{ partitions: number; recorded_at: Date }>('SELECT partitions, recorded_at FROM stage_input_partitions WHERE group_id = $1 AND topic = $2', [groupId, topic]);
  const recorded = rows[0].partitions;
  if (recorded !== current) {
    throw new InputPartitionsChangedError(
      `topic ${topic} has ${current} partitions, but the state of consumer group ${groupId} was built for ${recorded} `
      + `(recorded ${rows[0].recorded_at.toISOString()}): keyed state would split across partitions, so ${groupId} does not start. `
      + `Either give the topic back its ${recorded} partitions (recreate it), or rebuild the state for ${current} partitions under new consumer groups `
      + `(a new KAFKA_GROUP_PREFIX) by replaying the topics (README "Changing partition counts").`,
    );
  }
  return current;
}
