import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import {
  CLOCK, Clock, DATABASE, Database, KAFKA, KafkaPort, LOGGER, Logger, METRICS, Metrics, READINESS, ReadinessRegistry,
  StatefulStageRunner, TopicNames,
} from '@streamguard/common';
import { tenantScopedWindowDefinition, WindowDefinition } from '@streamguard/stream-core';
import { WindowResultsRepository } from '../aggregates/window-results.repository';
import { EventRepartitioner } from '../repartition/event-repartitioner';
import { RepartitionStage } from '../repartition/repartition-stage';
import { routeWindowDefinitions } from '../repartition/window-routing';
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
 * `events.enriched` → windows → `aggregates` + `window_results`, in up to three stages (see README "Windows:
 * exact semantics"):
 * - co-partitioned definitions (tenant-scoped groupBy starts with tenantId, accountId — the input key) run
 *   directly on `events.enriched` (group `<prefix>.aggregate`);
 * - the others are shuffled: stage 1 (RepartitionStage, group `<prefix>.aggregate-repartition`, Kafka
 *   transactions) re-keys each event by `<definition>|<groupKey>` into `events.repartition`; stage 2 (group
 *   `<prefix>.aggregate-repartitioned`) runs them there, so each group is windowed by exactly one partition.
 * Window state, results and input offsets of the windowing stages commit in one Postgres transaction (see
 * PostgresStatefulStage) and stage 1 commits its outputs with its input offsets in one Kafka transaction, so
 * results are exactly-once in effect on both paths. A stage with no definitions to run is not started.
 */
@Injectable()
export class WindowAggregationConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly runners: StatefulStageRunner[] = [];
  private readonly repartition?: RepartitionStage;

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
    const { coPartitioned, repartitioned } = routeWindowDefinitions(settings.definitions.map(tenantScopedWindowDefinition));
    const operatorOptions = (definitions: WindowDefinition[]) => ({
      definitions, maxOutOfOrdernessMs: settings.maxOutOfOrdernessMs, idleTimeoutMs: settings.idleTimeoutMs,
      maxFutureSkewMs: settings.maxFutureSkewMs, clock,
    });
    const common = {
      service: 'aggregate', dlqTopic: settings.topics.dlq, kafka, db, logger, metrics, clock,
      partitionConcurrency: settings.partitionConcurrency, tickMs: settings.tickMs,
      onRestored: (_partition: number, _entries: number, durationMs: number) => aggregateMetrics.restoreDuration.observe({}, durationMs / 1000),
    };
    // With no definitions at all the stage still consumes (and dead-letters undecodable records), as before.
    if (coPartitioned.length > 0 || repartitioned.length === 0) {
      const options = operatorOptions(coPartitioned);
      this.runners.push(new StatefulStageRunner({
        ...common, groupId: settings.groupId, inputTopic: settings.topics.enriched,
        createProcessor: (partition, _topic, state) =>
          new WindowPartitionProcessor(partition, state, options, settings.topics, repository, aggregateMetrics, clock, 'enriched'),
      }));
    }
    if (repartitioned.length > 0) {
      const options = operatorOptions(repartitioned);
      this.repartition = new RepartitionStage({
        groupId: `${settings.groupId}-repartition`, inputTopic: settings.topics.enriched, dlqTopic: settings.topics.dlq,
        repartitioner: new EventRepartitioner({ repartitioned, coPartitioned, topics: settings.topics, maxFutureSkewMs: settings.maxFutureSkewMs }),
        partitionConcurrency: settings.partitionConcurrency, kafka, logger, metrics, clock,
      });
      this.runners.push(new StatefulStageRunner({
        ...common, groupId: `${settings.groupId}-repartitioned`, inputTopic: settings.topics.repartition,
        createProcessor: (partition, _topic, state) =>
          new WindowPartitionProcessor(partition, state, options, settings.topics, repository, aggregateMetrics, clock, 'repartition'),
      }));
    }
    const describe = (d: WindowDefinition) => `${d.name}: ${d.window.type} by ${d.groupBy.join('+')} (${d.emit})`;
    logger.info('window definitions', {
      [`on ${settings.topics.enriched} (co-partitioned, group ${settings.groupId})`]: coPartitioned.map(describe),
      [`via ${settings.topics.repartition} (repartitioned, groups ${settings.groupId}-repartition, ${settings.groupId}-repartitioned)`]: repartitioned.map(describe),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.readiness.register('kafka', () => this.runners.every((r) => r.isReady()) && (this.repartition?.isReady() ?? true));
    this.repartition?.start();
    for (const runner of this.runners) runner.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    // Stage 1 first: it stops feeding stage 2, which then finishes its in-flight batch.
    await this.repartition?.stop();
    await Promise.all(this.runners.map((r) => r.stop()));
  }
}
