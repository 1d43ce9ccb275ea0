/**
 * Stage 1 of the shuffle: `events.enriched` → `events.repartition`, a consume-transform-produce stage with
 * Kafka transactions (TransactionalTransformStage, as enrich): the repartition records, DLQ / late records and
 * the input offsets of a batch commit in ONE transaction, so a read_committed reader (stage 2) sees each
 * repartition record exactly once, across crashes and rebalances. Consumer group `<prefix>.aggregate-repartition`.
 */
import {
  Clock, decodeJsonRecord, KafkaPort, Logger, Metrics, OutboundRecord, parseEnrichedEventMessage, StageMetrics, TransactionalTransformStage,
  TransformStageRunner,
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
  private readonly runner: TransformStageRunner<EnrichedInput>;

  constructor(options: RepartitionStageOptions) {
    const { metrics, clock, logger, repartitioner } = options;
    const skipped = metrics.counter(`${SERVICE}_records_skipped_total`,
      'Records not repartitioned because the co-partitioned stage dead-letters or reports them (undecodable, invalid, future_ts).', ['reason']);
    const stage = new TransactionalTransformStage<EnrichedInput>({
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
    this.runner = new TransformStageRunner({
      service: SERVICE, groupId: options.groupId, inputTopic: options.inputTopic, partitionConcurrency: options.partitionConcurrency,
      stage, kafka: options.kafka, logger, metrics, runningMessage: 'repartitioning',
    });
  }

  /** Starts consuming in the background, retrying until Kafka is reachable. */
  start(): void {
    this.runner.start();
  }

  isReady(): boolean {
    return this.runner.isReady();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }
}
