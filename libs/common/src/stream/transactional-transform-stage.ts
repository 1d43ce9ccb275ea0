/**
 * A stateless consume → transform → produce stage with Kafka transactions (used by enrich).
 *
 * Guarantee: for every input record, its outputs (or its DLQ record) and the consumer offset past it are
 * committed in ONE Kafka transaction, so a read_committed reader sees each output exactly once, whatever
 * crashes or rebalances happen. Zombie fencing: the transactional id is derived from the input partition
 * (`<group>-<topic>-<partition>`), so the instance that takes a partition over fences the previous owner's
 * producer before writing (the same scheme as Kafka Streams' original exactly-once mode).
 *
 * Error policy: a retriable error (Kafka, Postgres unavailable…) rolls the batch back and retries it with
 * jittered back-off, the partition counted as blocked meanwhile; an error retrying cannot clear isolates the
 * record that causes it (transformIsolating) and dead-letters it.
 *
 * Progress markers on the input (see progress-marker-record.ts) are not records to transform: they are read
 * into the partition's progress and forwarded, in the same transaction, behind the batch's outputs.
 */
import type { Logger } from '../logging/logger';
import type { Clock } from '../time/clock';
import type { Assignment, BatchControl, InboundRecord, KafkaPort, OutboundRecord, PartitionBatch, TransactionalProducer } from '../kafka/kafka.port';
import { LazyAdmin } from './lazy-admin';
import { BlockedPartitions } from './blocked-partitions';
import { errorCode, isolatedPoisonError, isPoisonSuspect, isRetriable, jitteredBackoffMs } from './processing-error';
import { DecodedRecord, toDlqRecord } from './record-codec';
import { isProgressMarkerRecord } from '../contracts/progress-marker-record';
import { ProgressForwarder, type ProgressForwarderOptions } from './progress-forwarder';
import type { PartitionInfo } from './consuming-stage';
import type { StageMetrics } from './stage-metrics';

export interface TransformResult {
  outputs: OutboundRecord[];
  /** Records the transform decided can never be processed (→ DLQ, partition keeps flowing). */
  rejected: Array<{ offset: string; error: Error }>;
}

export interface TransactionalTransformStageOptions<V> {
  groupId: string;
  dlqTopic: string;
  kafka: KafkaPort;
  logger: Logger;
  metrics: StageMetrics;
  clock: Clock;
  /** Decodes one record; throws PoisonRecordError for undecodable ones. */
  decode(record: InboundRecord): DecodedRecord<V>;
  /** Transforms one partition's batch at once (batch lookups); throws only for transient failures. */
  transform(records: DecodedRecord<V>[], partition: PartitionInfo): Promise<TransformResult>;
  /** Called after a batch committed, with the decoded records (for latency metrics). */
  onCommitted?(records: DecodedRecord<V>[]): void;
  /**
   * In-band time: progress markers read from the input are passed on to every partition of this topic (see
   * ProgressForwarder). Without it, markers are read and dropped.
   */
  progress?: ProgressForwarderOptions;
}

export class TransactionalTransformStage<V> {
  private readonly producers = new Map<string, Promise<TransactionalProducer>>();
  private readonly attempts = new Map<string, number>();
  /** Committed offset per partition, read right after this instance's producer fenced the previous owner. */
  private readonly floors = new Map<string, string | null>();
  private readonly admin: LazyAdmin;
  private readonly progress?: ProgressForwarder;

  /** Partitions whose batch keeps failing (see BlockedPartitions). */
  readonly blocked: BlockedPartitions;

  constructor(private readonly options: TransactionalTransformStageOptions<V>) {
    this.admin = new LazyAdmin(options.kafka);
    if (options.progress) this.progress = new ProgressForwarder(options.progress, () => this.admin.get());
    this.blocked = new BlockedPartitions(options.metrics.blocked, options.clock);
  }

  readonly handle = async (batch: PartitionBatch, control: BatchControl): Promise<void> => {
    const { options } = this;
    const started = options.clock.now();
    const partitionKey = `${batch.topic}-${batch.partition}`;
    try {
      // Fence first, then read the committed offset: anything a previous owner committed before it was
      // fenced is skipped here instead of being enriched twice.
      const producer = await this.producerFor(partitionKey);
      const floor = await this.committedFloor(batch.topic, batch.partition);
      const records = floor === null ? batch.records : batch.records.filter((r) => BigInt(r.offset) >= BigInt(floor));
      if (records.length === 0) return;
      if (this.progress && !this.progress.knows(batch.topic, batch.partition) && floor === null
        && (await (await this.admin.get()).logStartOffset(batch.topic, batch.partition)) === records[0].offset) {
        this.progress.startsAtLogStart(batch.topic, batch.partition);
      }
      const decoded: DecodedRecord<V>[] = [];
      const markers: InboundRecord[] = [];
      const dlq: OutboundRecord[] = [];
      const byOffset = new Map(records.map((r) => [r.offset, r]));
      for (const record of records) {
        if (isProgressMarkerRecord(record)) {
          markers.push(record);
          continue;
        }
        try {
          decoded.push(options.decode(record));
        } catch (error) {
          dlq.push(this.toDlq(record, error as Error));
        }
      }
      const { outputs, rejected } = decoded.length === 0 ? { outputs: [], rejected: [] } : await this.transformIsolating(batch, decoded);
      for (const { offset, error } of rejected) {
        const record = byOffset.get(offset);
        if (record) dlq.push(this.toDlq(record, error));
      }
      // After the outputs: a forwarded marker must follow every output of the records read before it.
      const forwarded = this.progress
        ? await this.progress.forward(batch.topic, batch.partition, markers, (record, error) => dlq.push(this.toDlq(record, error)))
        : { records: [] };
      if (!control.isActive()) return; // shutting down: commit nothing, the next owner redoes it
      // The batch's next offset, not last record + 1: it includes the transaction marker after the records.
      await producer.sendAtomically([...outputs, ...forwarded.records, ...dlq], {
        groupId: options.groupId, offsets: [{ topic: batch.topic, partition: batch.partition, offset: batch.nextOffset }],
      });
      this.progress?.committed(batch.topic, batch.partition, forwarded.time);
      this.floors.set(partitionKey, batch.nextOffset);
      this.attempts.delete(partitionKey);
      this.blocked.cleared(batch.topic, batch.partition);
      options.metrics.processed.inc({ topic: batch.topic }, records.length);
      options.metrics.batchSize.observe({ topic: batch.topic }, records.length);
      options.metrics.batchDuration.observe({ topic: batch.topic }, (options.clock.now() - started) / 1000);
      options.onCommitted?.(decoded);
    } catch (error) {
      const attempt = (this.attempts.get(partitionKey) ?? 0) + 1;
      this.attempts.set(partitionKey, attempt);
      const code = String((error as { code?: unknown; type?: unknown }).code ?? (error as { type?: unknown }).type ?? (error as Error).name);
      options.metrics.retries.inc({ topic: batch.topic, code });
      // A failed transaction may leave the producer fenced or in an error state: start a fresh one.
      await this.dropProducer(partitionKey);
      const delay = jitteredBackoffMs(attempt - 1);
      this.blocked.failed(batch.topic, batch.partition);
      options.logger.warn('batch failed; rolled back, will retry', {
        topic: batch.topic, partition: batch.partition, fromOffset: batch.records[0].offset, attempt, delayMs: delay,
        retriable: isRetriable(error), error: (error as Error).message,
      });
      control.retryFrom(batch.records[0].offset, delay);
    }
  };

  /**
   * Transforms the records; when that fails with an error retrying cannot clear (a handler that throws, a
   * Postgres data error), isolates the record that causes it by bisection — each half transformed again on its
   * own, a failing half split again — and rejects that one record (→ DLQ, with the error's code and cause)
   * while the others' outputs go on, in input order, in the same Kafka transaction. Retriable errors propagate
   * (the whole batch is retried with back-off).
   */
  private async transformIsolating(batch: PartitionBatch, records: DecodedRecord<V>[]): Promise<TransformResult> {
    const partition = { topic: batch.topic, partition: batch.partition, firstOffset: records[0].offset, records: records.length };
    try {
      return await this.options.transform(records, partition);
    } catch (error) {
      if (!isPoisonSuspect(error)) throw error;
      if (records.length === 1) return { outputs: [], rejected: [{ offset: records[0].offset, error: isolatedPoisonError(error) }] };
      this.options.logger.warn('transform failed with an error retrying cannot clear; isolating the record that causes it', {
        topic: batch.topic, partition: batch.partition, fromOffset: records[0].offset, records: records.length, code: errorCode(error), error: (error as Error).message,
      });
      const middle = Math.ceil(records.length / 2);
      const first = await this.transformIsolating(batch, records.slice(0, middle));
      const second = await this.transformIsolating(batch, records.slice(middle));
      return { outputs: [...first.outputs, ...second.outputs], rejected: [...first.rejected, ...second.rejected] };
    }
  }

  /** Partitions we no longer own: close their producers (the new owner's producer fences them anyway). */
  readonly onAssignment = (assigned: Assignment[], revoked: Assignment[]): void => {
    for (const { topic, partitions } of revoked) {
      for (const partition of partitions) {
        this.blocked.cleared(topic, partition);
        this.progress?.forget(topic, partition);
        void this.dropProducer(`${topic}-${partition}`);
      }
    }
    // Fence the previous owners at once: that decides a crashed owner's open transaction now, so the consumer's
    // stable read of where to start does not wait for it to time out. A failed fence is retried by the first batch.
    for (const { topic, partitions } of assigned) {
      for (const partition of partitions) {
        this.blocked.cleared(topic, partition);
        this.progress?.forget(topic, partition); // learnt afresh from the committed offset on
        void this.producerFor(`${topic}-${partition}`).catch(() => undefined);
      }
    }
  };

  async close(): Promise<void> {
    await Promise.all([...this.producers.keys()].map((k) => this.dropProducer(k)));
    await this.admin.close();
  }

  private toDlq(record: InboundRecord, error: Error): OutboundRecord {
    const code = String((error as { code?: unknown }).code ?? error.name);
    this.options.metrics.dlq.inc({ topic: record.topic, code });
    this.options.logger.warn('record sent to DLQ', { topic: record.topic, partition: record.partition, offset: record.offset, code, error: error.message });
    return toDlqRecord(this.options.dlqTopic, record, this.options.groupId, error, this.options.clock.now());
  }

  private async committedFloor(topic: string, partition: number): Promise<string | null> {
    const key = `${topic}-${partition}`;
    if (this.floors.has(key)) return this.floors.get(key)!;
    const floor = await (await this.admin.get()).committedOffset(this.options.groupId, topic, partition);
    this.floors.set(key, floor);
    return floor;
  }

  private producerFor(partitionKey: string): Promise<TransactionalProducer> {
    let producer = this.producers.get(partitionKey);
    if (!producer) {
      producer = this.options.kafka.transactionalProducer(`${this.options.groupId}-${partitionKey}`);
      producer.catch(() => this.producers.delete(partitionKey));
      this.producers.set(partitionKey, producer);
    }
    return producer;
  }

  private async dropProducer(partitionKey: string): Promise<void> {
    const producer = this.producers.get(partitionKey);
    this.producers.delete(partitionKey);
    this.floors.delete(partitionKey); // re-read after the next fence
    if (producer) await producer.then((p) => p.disconnect()).catch(() => undefined);
  }
}
