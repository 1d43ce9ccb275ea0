import {
  Clock, ConsumingStage, Database, decodeJsonRecord, DEFAULT_TOPICS, HandledStage, KafkaPort, Logger, Metrics, parseEnrichedEventMessage,
  StageMetrics, StageOutput, StatefulStageRunner, TopicNames, TransactionalTransformStage, TransformResult, TransformStageRunner,
} from '@streamguard/common';
import { tenantScopedWindowDefinition, WindowDefinition } from '@streamguard/stream-core';
import type { WindowResultsRepository } from '../aggregates/window-results.repository';
import type { EnrichedInput } from '../repartition/event-repartitioner';
import { REPARTITION_SERVICE } from '../repartition/repartition.service';
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
  blockedNotReadyMs: number;
}

/** The shuffle's handler pattern: it reads `events.enriched` in its own group, beside the co-partitioned stage. */
export const REPARTITION_PATTERN = `${DEFAULT_TOPICS.enriched}:repartition`;

/** The window definitions of each path, tenant-scoped (two tenants never share a window). */
export function routedDefinitions(settings: WindowingSettings): { coPartitioned: WindowDefinition[]; repartitioned: WindowDefinition[] } {
  return routeWindowDefinitions(settings.definitions.map(tenantScopedWindowDefinition));
}

/**
 * `events.enriched` → windows → `aggregates` + `window_results`, in up to three stages (see README "Windows:
 * exact semantics"), in stop order (a stage that feeds another comes first):
 * - the shuffle, stage 1 (group `<prefix>.aggregate-repartition`, Kafka transactions, pattern
 *   `events.enriched:repartition`): re-keys each event by `<definition>|<groupKey>` into `events.repartition`;
 * - co-partitioned definitions (tenant-scoped groupBy starts with tenantId, accountId — the input key) run
 *   directly on `events.enriched` (group `<prefix>.aggregate`, pattern `events.enriched`);
 * - stage 2 (group `<prefix>.aggregate-repartitioned`, pattern `events.repartition`) windows the shuffled
 *   definitions, so each group is windowed by exactly one partition.
 * Window state, results and input offsets of the windowing stages commit in one Postgres transaction (see
 * PostgresStatefulStage) and stage 1 commits its outputs with its input offsets in one Kafka transaction, so
 * results are exactly-once in effect on both paths. A stage with no definitions to run is not started.
 */
export function windowAggregationStages(settings: WindowingSettings, deps: {
  kafka: KafkaPort; db: Database; logger: Logger; metrics: Metrics; clock: Clock; repository: WindowResultsRepository;
}): ConsumingStage[] {
  const { kafka, db, logger, metrics, clock, repository } = deps;
  const aggregateMetrics = new AggregateMetrics(metrics);
  const { coPartitioned, repartitioned } = routedDefinitions(settings);
  const operatorOptions = (definitions: WindowDefinition[]) => ({
    definitions, maxOutOfOrdernessMs: settings.maxOutOfOrdernessMs, idleTimeoutMs: settings.idleTimeoutMs,
    maxFutureSkewMs: settings.maxFutureSkewMs, clock,
  });
  const windowStage = (pattern: string, groupId: string, inputTopic: string, definitions: WindowDefinition[], source: 'enriched' | 'repartition') =>
    new HandledStage(pattern, (handle) => new StatefulStageRunner({
      service: 'aggregate', groupId, inputTopic, dlqTopic: settings.topics.dlq, markerTopic: settings.topics.outboxMarkers, kafka, db, logger, metrics, clock,
      partitionConcurrency: settings.partitionConcurrency, blockedNotReadyMs: settings.blockedNotReadyMs, tickMs: settings.tickMs,
      onRestored: (_partition, _entries, durationMs) => aggregateMetrics.restoreDuration.observe({}, durationMs / 1000),
      createProcessor: (partition, _topic, state) =>
        new WindowPartitionProcessor(partition, state, operatorOptions(definitions), settings.topics, repository, aggregateMetrics, clock, source),
      process: (_processor, records, partition) => handle(records, partition) as Promise<StageOutput>,
    }));
  const stages: ConsumingStage[] = [];
  if (repartitioned.length > 0) {
    const groupId = `${settings.groupId}-repartition`;
    stages.push(new HandledStage(REPARTITION_PATTERN, (handle) => new TransformStageRunner<EnrichedInput>({
      service: REPARTITION_SERVICE, groupId, inputTopic: settings.topics.enriched, partitionConcurrency: settings.partitionConcurrency,
      blockedNotReadyMs: settings.blockedNotReadyMs,
      kafka, logger, metrics, runningMessage: 'repartitioning',
      stage: new TransactionalTransformStage<EnrichedInput>({
        groupId, dlqTopic: settings.topics.dlq, kafka, logger, metrics: new StageMetrics(metrics, REPARTITION_SERVICE), clock,
        // Never throws: whether an undecodable record is dead-lettered here depends on the co-partitioned stage.
        decode: (record) => {
          const base = { key: record.key, topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp };
          try {
            return { ...base, value: { record, event: decodeJsonRecord(record, parseEnrichedEventMessage).value } };
          } catch (error) {
            return { ...base, value: { record, error: error as Error } };
          }
        },
        transform: (records, partition) => handle(records, partition) as Promise<TransformResult>,
        // Enrich's markers (one per events.raw partition) go on to every events.repartition partition. Only a
        // fixed family of sources reaches this topic, so no source ever times out.
        progress: { outputTopic: settings.topics.repartition, sourceTimeoutMs: Infinity },
      }),
    })));
  }
  // With no definitions at all the stage still consumes (and dead-letters undecodable records), as before.
  if (coPartitioned.length > 0 || repartitioned.length === 0) {
    stages.push(windowStage(DEFAULT_TOPICS.enriched, settings.groupId, settings.topics.enriched, coPartitioned, 'enriched'));
  }
  if (repartitioned.length > 0) {
    stages.push(windowStage(DEFAULT_TOPICS.repartition, `${settings.groupId}-repartitioned`, settings.topics.repartition, repartitioned, 'repartition'));
  }
  const describe = (d: WindowDefinition) => `${d.name}: ${d.window.type} by ${d.groupBy.join('+')} (${d.emit})`;
  logger.info('window definitions', {
    [`on ${settings.topics.enriched} (co-partitioned, group ${settings.groupId})`]: coPartitioned.map(describe),
    [`via ${settings.topics.repartition} (repartitioned, groups ${settings.groupId}-repartition, ${settings.groupId}-repartitioned)`]: repartitioned.map(describe),
  });
  return stages;
}
