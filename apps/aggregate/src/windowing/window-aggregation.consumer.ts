import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import {
  CLOCK, Clock, DATABASE, Database, KAFKA, KafkaPort, LOGGER, Logger, METRICS, Metrics, READINESS, ReadinessRegistry,
  StatefulStageRunner, TopicNames,
} from '@streamguard/common';
import { tenantScopedWindowDefinition, WindowDefinition } from '@streamguard/stream-core';
import { WindowResultsRepository } from '../aggregates/window-results.repository';
import { AggregateMetrics } from './aggregate-metrics';
import { WindowPartitionProcessor } from './window-partition.processor';

export interface WindowingSettings {
  groupId: string;
  topics: TopicNames;
  definitions: WindowDefinition[];
  maxOutOfOrdernessMs: number;
  idleTimeoutMs: number;
  maxFutureSkewMs: number;
  tickMs: number;
  partitionConcurrency: number;
}
export const WINDOWING_SETTINGS = Symbol('WindowingSettings');

/**
 * `events.enriched` → windows → `aggregates` + `window_results`. Window state, results and input offsets
 * commit in one Postgres transaction (see PostgresStatefulStage), so results are exactly-once in effect.
 */
@Injectable()
export class WindowAggregationConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly runner: StatefulStageRunner;

  constructor(
    @Inject(WINDOWING_SETTINGS) settings: WindowingSettings,
    @Inject(KAFKA) kafka: KafkaPort,
    @Inject(DATABASE) db: Database,
    @Inject(LOGGER) logger: Logger,
    @Inject(METRICS) metrics: Metrics,
    @Inject(CLOCK) clock: Clock,
    @Inject(READINESS) private readonly readiness: ReadinessRegistry,
    @Inject(WindowResultsRepository) repository: WindowResultsRepository,
  ) {
    const aggregateMetrics = new AggregateMetrics(metrics);
    // Tenant isolation: every definition is grouped by tenantId first, so two tenants never share a window.
    const definitions = settings.definitions.map(tenantScopedWindowDefinition);
    const operatorOptions = {
      definitions, maxOutOfOrdernessMs: settings.maxOutOfOrdernessMs, idleTimeoutMs: settings.idleTimeoutMs,
      maxFutureSkewMs: settings.maxFutureSkewMs, clock,
    };
    this.runner = new StatefulStageRunner({
      service: 'aggregate', groupId: settings.groupId, inputTopic: settings.topics.enriched, dlqTopic: settings.topics.dlq,
      kafka, db, logger, metrics, clock, partitionConcurrency: settings.partitionConcurrency, tickMs: settings.tickMs,
      createProcessor: (partition, _topic, state) =>
        new WindowPartitionProcessor(partition, state, operatorOptions, settings.topics, repository, aggregateMetrics, clock),
      onRestored: (_partition, _entries, durationMs) => aggregateMetrics.restoreDuration.observe({}, durationMs / 1000),
    });
    logger.info('window definitions', { definitions: definitions.map((d) => `${d.name}: ${d.window.type} by ${d.groupBy.join('+')} (${d.emit})`) });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.readiness.register('kafka', () => this.runner.isReady());
    this.runner.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }
}
