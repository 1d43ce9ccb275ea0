/** Reads topics back from the beginning with read_committed, as a downstream consumer would see them. */
import { BatchConsumer, isProgressMarkerRecord, KafkaAdminPort, KafkaPort } from '@streamguard/common';
import type { TopicRecord } from './oracle';

export class TopicReader {
  /** The records read, progress markers left out (they are not events; see progress-marker-record.ts). */
  readonly records: TopicRecord[] = [];
  /** Every record read, markers included: what the log's offsets count on a topic written without transactions. */
  seen = 0;
  private consumer?: BatchConsumer;
  private lastArrival = Date.now();

  constructor(private readonly kafka: KafkaPort, readonly topic: string, private readonly groupId: string) {}

  async start(): Promise<this> {
    this.consumer = await this.kafka.batchConsumer({ groupId: this.groupId, topics: [this.topic], partitionConcurrency: 6, readCommitted: true, fromBeginning: true });
    await this.consumer.run(async (batch) => {
      this.seen += batch.records.length;
      for (const r of batch.records) {
        if (isProgressMarkerRecord(r)) continue;
        this.records.push({ topic: r.topic, partition: r.partition, offset: r.offset, key: r.key, value: r.value === null ? null : r.value.toString('utf8'), headers: r.headers });
      }
      this.lastArrival = Date.now();
    });
    return this;
  }

  /** Milliseconds since the last record arrived. */
  quietForMs(): number {
    return Date.now() - this.lastArrival;
  }

  async stop(): Promise<void> {
    await this.consumer?.stop().catch(() => undefined);
  }
}

/**
 * Offsets in the log per partition (high − low): for a topic written without transactions this is exactly
 * the number of records a reader must see. Asked as the lag of a group that never committed anything.
 */
export async function logSize(admin: KafkaAdminPort, topic: string): Promise<number> {
  const lags = await admin.consumerLag(`faults-never-commits-${topic}`, topic);
  return lags.reduce((s, l) => s + l.lag, 0);
}
