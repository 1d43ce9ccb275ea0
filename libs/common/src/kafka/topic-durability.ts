/**
 * Durability settings every topic is created with.
 *
 * Producers write with acks=all, which only means "every replica that is in sync right now". Without
 * `min.insync.replicas`, a partition whose followers fell out of sync acknowledges writes held by its leader
 * alone, and losing that broker loses acknowledged events. With replication factor 3 and
 * `min.insync.replicas=2`, an acknowledged write is on two brokers, and one broker may be down without
 * stopping writes (Kafka's recommended production setting). Topics are created with the value set
 * explicitly, so the guarantee does not depend on the broker's default.
 */
export const MIN_INSYNC_REPLICAS = 'min.insync.replicas';

/** 2 when there are at least three replicas; otherwise 1 (with two, 2 would stop writes whenever one broker is down). */
export function defaultMinInsyncReplicas(replicationFactor: number): number {
  return replicationFactor >= 3 ? 2 : 1;
}

/**
 * The topic configs for `replicationFactor` replicas and an optional explicit `minInsyncReplicas`. Throws
 * with what to change when the value cannot work: above the replication factor, every acks=all write fails.
 */
export function durabilityConfig(replicationFactor: number, minInsyncReplicas?: number): Record<string, string> {
  const value = minInsyncReplicas ?? defaultMinInsyncReplicas(replicationFactor);
  if (!Number.isInteger(value) || value < 1) throw new Error(`min.insync.replicas must be a whole number of at least 1, not ${value}`);
  if (value > replicationFactor) {
    throw new Error(`min.insync.replicas ${value} is above the replication factor ${replicationFactor}: every acks=all write would fail; lower it or add replicas`);
  }
  return { [MIN_INSYNC_REPLICAS]: String(value) };
}
