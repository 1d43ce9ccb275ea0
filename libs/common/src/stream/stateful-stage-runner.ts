/**
 * Wires a PostgresStatefulStage to Kafka: the consumer, the outbox relay and its producer, processing-time
 * ticks, lag metrics, and an orderly stop (stop fetching → in-flight batch finishes and commits → leave the
 * group → publish what the outbox still holds).
 */
import type { Logger } from '../logging/logger';
import type { Metrics } from '../metrics/metrics.port';
import type { Clock } from '../time/clock';
import type { BatchConsumer, InboundRecord, KafkaPort, RecordProducer } from '../kafka/kafka.port';
import type { Database } from '../postgres/database';
import { keepTrying } from './keep-trying';
import { LagMonitor } from './lag-monitor';
import { OutboxRelay } from './outbox-relay';
import { PartitionProcessor, PostgresStatefulStage } from './postgres-stateful-stage';
import { StageMetrics } from './stage-metrics';

export interface StatefulStageRunnerOptions {
  service: string;
  groupId: string;
  inputTopic: string;
  dlqTopic: string;
  kafka: KafkaPort;
  db: Database;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  partitionConcurrency: number;
  tickMs: number;
  createProcessor(partition: number, topic: string, state: Array<[string, unknown]>): PartitionProcessor;
  onRestored?(partition: number, entries: number, durationMs: number): void;
  onCommitted?(records: InboundRecord[]): void;
}

export class StatefulStageRunner {
  private consumer?: BatchConsumer;
  private producer?: RecordProducer;
  private relay?: OutboxRelay;
  private stage?: PostgresStatefulStage;
  private ticker?: NodeJS.Timeout;
  private stopTrying?: () => void;
  private readonly lag: LagMonitor;

  constructor(private readonly options: StatefulStageRunnerOptions) {
    this.lag = new LagMonitor(options.kafka, options.metrics, options.service, options.logger);
  }

  /** Starts consuming in the background, retrying until Kafka and Postgres are reachable. */
  start(): void {
    this.stopTrying = keepTrying(`${this.options.service} consumer`, () => this.connect(), this.options.logger, () => this.disconnect());
  }

  private async connect(): Promise<void> {
    const o = this.options;
    const stageMetrics = new StageMetrics(o.metrics, o.service);
    this.producer = await o.kafka.producer();
    this.relay = new OutboxRelay(o.db, this.producer, o.groupId, o.logger,
      o.metrics.counter(`${o.service}_outbox_published_total`, 'Records published from the Postgres outbox to Kafka.'));
    this.stage = new PostgresStatefulStage({
      groupId: o.groupId, dlqTopic: o.dlqTopic, db: o.db, relay: this.relay, logger: o.logger, metrics: stageMetrics, clock: o.clock,
      createProcessor: o.createProcessor,
      onRestored: (partition, _topic, entries, durationMs) => o.onRestored?.(partition, entries, durationMs),
      onCommitted: o.onCommitted,
    });
    this.consumer = await o.kafka.batchConsumer({
      groupId: o.groupId, topics: [o.inputTopic], partitionConcurrency: o.partitionConcurrency,
      readCommitted: true, fromBeginning: true, onAssignment: this.stage.onAssignment,
    });
    this.stage.attach(this.consumer);
    this.relay.start();
    await this.consumer.run(this.stage.handle);
    this.ticker = setInterval(() => void this.stage?.tick(), o.tickMs);
    this.ticker.unref();
    this.lag.start(o.groupId, [o.inputTopic]);
    o.logger.info('consuming', { topic: o.inputTopic, groupId: o.groupId });
  }

  isReady(): boolean {
    return (this.consumer?.isReady() ?? false) && (this.producer?.isConnected() ?? false);
  }

  async stop(): Promise<void> {
    this.stopTrying?.();
    if (this.ticker) clearInterval(this.ticker);
    await this.disconnect();
    await this.lag.stop();
  }

  private async disconnect(): Promise<void> {
    await this.consumer?.stop().catch(() => undefined);
    await this.relay?.stop();
    await this.producer?.disconnect().catch(() => undefined);
    this.consumer = undefined;
    this.producer = undefined;
  }
}
