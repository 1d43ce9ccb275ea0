/**
 * Stage 1 of the shuffle: `events.enriched` → `events.repartition`, a consume-transform-produce stage with
 * Kafka transactions (TransactionalTransformStage, as enrich): the repartition records, DLQ / late records and
 * the input offsets of a batch commit in ONE transaction, so a read_committed reader (stage 2) sees each
 * repartition record exactly once, across crashes and rebalances. Consumer group `<prefix>.aggregate-repartition`.
 */
import {
  BatchConsumer, Clock, decodeJsonRecord, KafkaPort, keepTrying, LagMonitor, Logger, Metrics, OutboundRecord, parseEnrichedEventMessage, StageMetrics,
  TransactionalTransformStage,
} from '@streamguard/common';
import { EnrichedInput, EventRepartitioner } from './event-repartitioner';

export interface RepartitionStageOptions {
  groupId: string;
  inputTopic: string;
  dlqTopic: string;
  repartitioner: EventRepartitioner;
  partitionConcurrency: number;
  kafka: KafkaPort;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
}

/** Metric prefix of this stage: its records are also processed by the co-partitioned stage, so not `aggregate_`. */
const SERVICE = 'aggregate_repartition';

export class RepartitionStage {
  private consumer?: BatchConsumer;
  private stopTrying?: () => void;
  private readonly stage: TransactionalTransformStage<EnrichedInput>;
  private readonly lag: LagMonitor;

  constructor(private readonly options: RepartitionStageOptions) {
    const { metrics, clock, logger, repartitioner } = options;
    const skipped = metrics.counter(`${SERVICE}_records_skipped_total`,
      'Records not repartitioned because the co-partitioned stage dead-letters or reports them (undecodable, invalid, future_ts).', ['reason']);
    this.lag = new LagMonitor(options.kafka, metrics, SERVICE, logger);
    this.stage = new TransactionalTransformStage<EnrichedInput>({
      groupId: options.groupId, dlqTopic: options.dlqTopic, kafka: options.kafka, logger, metrics: new StageMetrics(metrics, SERVICE), clock,
      // Never throws: whether an undecodable record is dead-lettered here depends on the co-partitioned stage.
      decode: (record) => {
        const base = { key: record.key, topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp };
        try {
          return { ...base, value: { record, event: decodeJsonRecord(record, parseEnrichedEventMessage).value } };
        } catch (error) {
          return { ...base, value: { record, error: error as Error } };
        }
      },
      transform: async (records) => {
        const now = clock.now();
        const outputs: OutboundRecord[] = [];
        const rejected: Array<{ offset: string; error: Error }> = [];
        for (const { value: input } of records) {
          const outcome = repartitioner.route(input, now);
          outputs.push(...outcome.outputs);
          if (outcome.rejected) rejected.push({ offset: input.record.offset, error: outcome.rejected });
          if (outcome.skipped) {
            skipped.inc({ reason: outcome.skipped });
            logger.debug('record left to the co-partitioned stage', {
              topic: input.record.topic, partition: input.record.partition, offset: input.record.offset, reason: outcome.skipped,
            });
          }
        }
        return { outputs, rejected };
      },
    });
  }

  /** Starts consuming in the background, retrying until Kafka is reachable. */
  start(): void {
    const o = this.options;
    this.stopTrying = keepTrying('aggregate repartition consumer', async () => {
      const consumer = await o.kafka.batchConsumer({
        groupId: o.groupId, topics: [o.inputTopic], partitionConcurrency: o.partitionConcurrency,
        readCommitted: true, fromBeginning: true, onAssignment: this.stage.onAssignment,
      });
      this.consumer = consumer;
      await consumer.run(this.stage.handle);
      this.lag.start(o.groupId, [o.inputTopic]);
      o.logger.info('repartitioning', { from: o.inputTopic, groupId: o.groupId });
    }, o.logger, async () => {
      await this.consumer?.stop().catch(() => undefined);
      this.consumer = undefined;
    });
  }

  isReady(): boolean {
    return this.consumer?.isReady() ?? false;
  }

  async stop(): Promise<void> {
    this.stopTrying?.();
    await this.consumer?.stop().catch(() => undefined);
    await this.stage.close();
    await this.lag.stop();
  }
}
