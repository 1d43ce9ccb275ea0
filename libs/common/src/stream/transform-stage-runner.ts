/**
 * Wires a TransactionalTransformStage to Kafka (the twin of StatefulStageRunner for Kafka-transactional
 * stages): a read_committed consumer, retried in the background until Kafka is reachable, lag metrics, and an
 * orderly stop (stop fetching → the in-flight batch finishes and commits → leave the group → close the
 * transactional producers).
 */
import type { Logger } from '../logging/logger';
import type { Metrics } from '../metrics/metrics.port';
import type { BatchConsumer, KafkaPort } from '../kafka/kafka.port';
import { keepTrying } from './keep-trying';
import { LagMonitor } from './lag-monitor';
import type { TransactionalTransformStage } from './transactional-transform-stage';

export interface TransformStageRunnerOptions<V> {
  /** Metric prefix of the lag gauges and name in retry logs, e.g. `enrich`. */
  service: string;
  groupId: string;
  inputTopic: string;
  partitionConcurrency: number;
  /** Not ready once a partition has been blocked this long (0 = never; PARTITION_BLOCKED_NOT_READY_MS). */
  blockedNotReadyMs: number;
  stage: TransactionalTransformStage<V>;
  kafka: KafkaPort;
  logger: Logger;
  metrics: Metrics;
  /** Logged once the consumer runs, with the input topic and group (e.g. `enriching`). */
  runningMessage: string;
  /** More fields for that line (e.g. the output topic). */
  describe?: Record<string, unknown>;
}

export class TransformStageRunner<V> {
  private consumer?: BatchConsumer;
  private stopTrying?: () => void;
  private readonly lag: LagMonitor;

  constructor(private readonly options: TransformStageRunnerOptions<V>) {
    this.lag = new LagMonitor(options.kafka, options.metrics, options.service, options.logger);
  }

  /** Starts consuming in the background, retrying until Kafka is reachable. */
  start(): void {
    const o = this.options;
    this.stopTrying = keepTrying(`${o.service} consumer`, async () => {
      const consumer = await o.kafka.batchConsumer({
        groupId: o.groupId, topics: [o.inputTopic], partitionConcurrency: o.partitionConcurrency,
        readCommitted: true, fromBeginning: true, onAssignment: o.stage.onAssignment,
      });
      this.consumer = consumer;
      await consumer.run(o.stage.handle);
      this.lag.start(o.groupId, [o.inputTopic]);
      o.logger.info(o.runningMessage, { from: o.inputTopic, ...o.describe, groupId: o.groupId });
    }, o.logger, async () => {
      await this.consumer?.stop().catch(() => undefined);
      this.consumer = undefined;
    });
  }

  /** A group member, and no partition blocked longer than `blockedNotReadyMs`. */
  isReady(): boolean {
    const { blockedNotReadyMs, stage } = this.options;
    return (this.consumer?.isReady() ?? false) && (blockedNotReadyMs === 0 || stage.blocked.longestMs() < blockedNotReadyMs);
  }

  async stop(): Promise<void> {
    this.stopTrying?.();
    await this.consumer?.stop().catch(() => undefined);
    await this.options.stage.close();
    await this.lag.stop();
  }
}
