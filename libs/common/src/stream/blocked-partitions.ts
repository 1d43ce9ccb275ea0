/**
 * Partitions whose current batch keeps failing with retriable errors (Kafka or Postgres unavailable, a
 * serialization failure that does not clear): since when each has been blocked, as the
 * `<service>_partition_blocked_seconds` gauge, so that one stuck partition is seen (a rate of retries every
 * 10 s is too low for a rate alert), and whether any has been blocked longer than the instance tolerates
 * before it reports not ready.
 */
import type { Gauge } from '../metrics/metrics.port';
import type { Clock } from '../time/clock';

export class BlockedPartitions {
  private readonly since = new Map<string, { topic: string; partition: number; at: number }>();

  constructor(private readonly gauge: Gauge, private readonly clock: Clock) {}

  /** A batch of the partition failed and will be retried; updates the gauge. */
  failed(topic: string, partition: number): void {
    const key = `${topic}\u0000${partition}`;
    const entry = this.since.get(key) ?? { topic, partition, at: this.clock.now() };
    this.since.set(key, entry);
    this.gauge.set({ topic, partition: String(partition) }, (this.clock.now() - entry.at) / 1000);
  }

  /** The partition committed a batch, was just assigned (its gauge starts at 0), or is no longer ours. */
  cleared(topic: string, partition: number): void {
    this.since.delete(`${topic}\u0000${partition}`);
    this.gauge.set({ topic, partition: String(partition) }, 0);
  }

  /** How long the longest-blocked partition has been blocked (0 when none is). */
  longestMs(): number {
    const now = this.clock.now();
    let longest = 0;
    for (const { at } of this.since.values()) longest = Math.max(longest, now - at);
    return longest;
  }
}
