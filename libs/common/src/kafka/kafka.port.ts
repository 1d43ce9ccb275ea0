/**
 * What the services need from Kafka, in our own types. Only `librdkafka-client.ts` imports the client library,
 * so the client can be swapped without touching handlers or domain code (it was, from KafkaJS: see
 * docs/kafka-client-choice.md).
 */
export type KafkaHeaders = Record<string, string>;

export interface OutboundRecord {
  topic: string;
  key: string | null;
  value: string | Buffer;
  headers?: KafkaHeaders;
  /** Services let the key choose the partition, except for progress markers (one per partition) and in tools. */
  partition?: number;
}

export interface InboundRecord {
  topic: string;
  partition: number;
  /** Offsets are strings: they are int64 and exceed Number.MAX_SAFE_INTEGER in long-lived topics. */
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: KafkaHeaders;
  /** Broker/producer timestamp, epoch ms. */
  timestamp: number;
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to read (last processed + 1), as Kafka commits it. */
  offset: string;
}

/** Acknowledged only once every in-sync replica has the records (acks=all), idempotent. */
export interface RecordProducer {
  send(records: OutboundRecord[]): Promise<void>;
  isConnected(): boolean;
  disconnect(): Promise<void>;
}

/** A producer whose writes become visible atomically together with consumer offsets (Kafka transactions). */
export interface TransactionalProducer {
  /** Sends `records` and commits `commit.offsets` for `commit.groupId` in one transaction; aborts and rethrows on failure. */
  sendAtomically(records: OutboundRecord[], commit?: { groupId: string; offsets: TopicPartitionOffset[] }): Promise<void>;
  disconnect(): Promise<void>;
}

export interface PartitionBatch {
  topic: string;
  partition: number;
  records: InboundRecord[];
  /**
   * The offset to commit once the batch is processed: past its last record AND past the entries after it
   * that are not records — the transaction markers (control records) that end every upstream transaction,
   * and aborted records. Committing "last record + 1" instead stops before the marker, so a caught-up group
   * shows lag 1 per partition forever (the broker's tool, autoscalers, our lag gauges).
   */
  nextOffset: string;
}

export interface BatchControl {
  /** Keep the group membership alive during long batches. */
  heartbeat(): Promise<void>;
  /** False once shutdown started or the partition was revoked: stop early, commit nothing more. */
  isActive(): boolean;
  /** Re-deliver this batch from `offset` after `delayMs` (pauses only this partition meanwhile). */
  retryFrom(offset: string, delayMs: number): void;
}

export type BatchHandler = (batch: PartitionBatch, control: BatchControl) => Promise<void>;

export interface Assignment {
  topic: string;
  partitions: number[];
}

export interface BatchConsumerOptions {
  groupId: string;
  topics: string[];
  /** How many partitions are processed at once (they are independent). */
  partitionConcurrency: number;
  readCommitted: boolean;
  fromBeginning: boolean;
  /** Called with the new assignment after every rebalance (before batches of the new generation arrive). */
  onAssignment?: (assigned: Assignment[], revoked: Assignment[]) => void;
}

export interface BatchConsumer {
  run(handler: BatchHandler): Promise<void>;
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  /** Connected and a member of its group. */
  isReady(): boolean;
  /** Graceful: stop fetching, let the in-flight batch finish, leave the group. */
  stop(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  config?: Record<string, string>;
}

export interface KafkaAdminPort {
  ensureTopics(topics: TopicSpec[]): Promise<string[]>;
  /** Sum of (log end - committed) over the group's partitions of `topic`; for tests and lag metrics. */
  consumerLag(groupId: string, topic: string): Promise<{ partition: number; lag: number }[]>;
  /**
   * The group's committed offset for one partition, null if none. A stable read (KIP-447 `require_stable`):
   * while a transaction that commits offsets for the partition is pending, it waits for that transaction's
   * outcome, so a read right after fencing the previous owner sees what its last transaction left.
   */
  committedOffset(groupId: string, topic: string, partition: number): Promise<string | null>;
  partitionCount(topic: string): Promise<number>;
  /** The partition's first offset still in the log (records before it were deleted by retention). */
  logStartOffset(topic: string, partition: number): Promise<string>;
  /**
   * The value of the last committed record with `key` in one partition, null if there is none: the partition
   * read with read_committed from its start to its end as of the call (for compacted topics of small records).
   */
  latestValue(topic: string, partition: number, key: string): Promise<Buffer | null>;
  disconnect(): Promise<void>;
}

export interface KafkaPort {
  producer(options?: { name?: string }): Promise<RecordProducer>;
  transactionalProducer(transactionalId: string): Promise<TransactionalProducer>;
  batchConsumer(options: BatchConsumerOptions): Promise<BatchConsumer>;
  admin(): Promise<KafkaAdminPort>;
}
