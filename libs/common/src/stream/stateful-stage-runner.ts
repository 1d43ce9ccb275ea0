/**
 * Wires a PostgresStatefulStage to Kafka: the consumer, the transactional outbox, processing-time ticks,
 * lag metrics, and an orderly stop (stop fetching → the in-flight batch finishes, commits and publishes →
 * leave the group).
 */
import type { Logger } from '../logging/logger';
import type { Metrics } from '../metrics/metrics.port';
import type { Clock } from '../time/clock';
import type { BatchConsumer, KafkaPort } from '../kafka/kafka.port';
import type { Database } from '../postgres/database';
import { checkInputPartitions } from './input-partition-guard';
import { keepTrying } from './keep-trying';
import { LagMonitor } from './lag-monitor';
import { LazyAdmin } from './lazy-admin';
import { TransactionalOutbox } from './transactional-outbox';
import { PartitionProcessor, PostgresStatefulStage, PostgresStatefulStageOptions } from './postgres-stateful-stage';
import { StageMetrics } from './stage-metrics';

export interface StatefulStageRunnerOptions {
  service: string;
  groupId: string;
  inputTopic: string;
  dlqTopic: string;
  /** The compacted topic of the outbox's "published through" markers (see TransactionalOutbox). */
  markerTopic: string;
  kafka: KafkaPort;
  db: Database;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  partitionConcurrency: number;
  /** Not ready once a partition has been blocked this long (0 = never; PARTITION_BLOCKED_NOT_READY_MS). */
  blockedNotReadyMs: number;
  tickMs: number;
  createProcessor(partition: number, topic: string, state: Array<[string, unknown]>): PartitionProcessor;
  /** See PostgresStatefulStageOptions.process. */
  process?: PostgresStatefulStageOptions['process'];
  /** Awaited (retried until it succeeds) before consuming starts, e.g. the first load of the rules. */
  beforeStart?(): Promise<void>;
  onRestored?(partition: number, entries: number, durationMs: number): void;
}

export class StatefulStageRunner {
  private consumer?: BatchConsumer;
  private outbox?: TransactionalOutbox;
  private stage?: PostgresStatefulStage;
  private ticker?: NodeJS.Timeout;
  private stopTrying?: () => void;
  private readonly lag: LagMonitor;
  /** For the input's partition count and log start offsets. */
  private readonly admin: LazyAdmin;

  constructor(private readonly options: StatefulStageRunnerOptions) {
    this.lag = new LagMonitor(options.kafka, options.metrics, options.service, options.logger);
    this.admin = new LazyAdmin(options.kafka);
  }

  /** Starts consuming in the background, retrying until Kafka and Postgres are reachable. */
  start(): void {
    this.stopTrying = keepTrying(`${this.options.service} consumer`, () => this.connect(), this.options.logger, () => this.disconnect());
  }

  private started = false;

  private async connect(): Promise<void> {
    const o = this.options;
    if (!this.started && o.beforeStart) await o.beforeStart();
    this.started = true;
    const admin = await this.admin.get();
    await checkInputPartitions(o.db, admin, o.groupId, o.inputTopic);
    // The outbox finds a partition's marker by hashing its key over the marker topic's partitions: the same rule.
    await checkInputPartitions(o.db, admin, o.groupId, o.markerTopic);
    const stageMetrics = new StageMetrics(o.metrics, o.service);
    this.outbox = new TransactionalOutbox(o.db, o.kafka, o.groupId, o.markerTopic, o.logger,
      o.metrics.counter(`${o.service}_outbox_published_total`, 'Records published from the Postgres outbox to Kafka (exactly once).'),
      o.dlqTopic, o.metrics.counter(`${o.service}_outbox_unpublishable_total`, 'Outputs Kafka refused for good (too large for their topic…), published as dead-letter stubs instead.', ['topic']));
    this.stage = new PostgresStatefulStage({
      groupId: o.groupId, dlqTopic: o.dlqTopic, db: o.db, outbox: this.outbox, logger: o.logger, metrics: stageMetrics, clock: o.clock,
      createProcessor: o.createProcessor, process: o.process,
      onRestored: (partition, _topic, entries, durationMs) => o.onRestored?.(partition, entries, durationMs),
      logStartOffset: async (topic, partition) => (await this.admin.get()).logStartOffset(topic, partition),
    });
    this.consumer = await o.kafka.batchConsumer({
      groupId: o.groupId, topics: [o.inputTopic], partitionConcurrency: o.partitionConcurrency,
      readCommitted: true, fromBeginning: true, onAssignment: this.stage.onAssignment,
    });
    this.stage.attach(this.consumer);
    await this.consumer.run(this.stage.handle);
    this.ticker = setInterval(() => void this.stage?.tick(), o.tickMs);
    this.ticker.unref();
    this.lag.start(o.groupId, [o.inputTopic]);
    o.logger.info('consuming', { topic: o.inputTopic, groupId: o.groupId });
  }

  /** A group member, and no partition blocked longer than `blockedNotReadyMs`. */
  isReady(): boolean {
    const { blockedNotReadyMs } = this.options;
    return (this.consumer?.isReady() ?? false) && (blockedNotReadyMs === 0 || (this.stage?.blocked.longestMs() ?? 0) < blockedNotReadyMs);
  }

  async stop(): Promise<void> {
    this.stopTrying?.();
    if (this.ticker) clearInterval(this.ticker);
    await this.disconnect();
    await this.lag.stop();
    await this.admin.close();
  }

  private async disconnect(): Promise<void> {
    await this.consumer?.stop().catch(() => undefined);
    await this.stage?.flush(); // publish what was committed before closing the producers
    await this.outbox?.close();
    this.consumer = undefined;
    this.outbox = undefined;
  }
}
