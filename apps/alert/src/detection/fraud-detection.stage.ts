import {
  Clock, ConsumingStage, Database, DEFAULT_TOPICS, HandledStage, KafkaPort, Logger, Metrics, StageOutput, StatefulStageRunner, TopicNames,
} from '@streamguard/common';
import type { AlertsRepository } from '../alerts/alerts.repository';
import type { RuleSet } from '../rules/rule-set';
import { RulePartitionProcessor } from './rule-partition.processor';

export interface DetectionSettings {
  groupId: string;
  topics: TopicNames;
  tickMs: number;
  partitionConcurrency: number;
  blockedNotReadyMs: number;
}

/**
 * `events.enriched` → rules → `alerts` + the `alerts` table. Rule state, alerts and input offsets commit in
 * one Postgres transaction (see PostgresStatefulStage): a replay never yields a second alert. Each partition's
 * RulePartitionProcessor is restored from Postgres and handed to the `@EventPattern('events.enriched')`
 * handler (FraudDetectionController) as its context's state. No event is evaluated before the rules are
 * loaded: consuming starts only after the first load (retried until it succeeds).
 */
export function fraudDetectionStage(settings: DetectionSettings, deps: {
  kafka: KafkaPort; db: Database; logger: Logger; metrics: Metrics; clock: Clock; ruleSet: RuleSet; repository: AlertsRepository;
}): ConsumingStage {
  const { kafka, db, logger, metrics, clock, ruleSet, repository } = deps;
  const alertsTotal = metrics.counter('alerts_total', 'Fraud alerts raised (new alertIds), by rule (its id; `<id>@<tenant>` for a tenant rule) and severity.', ['rule', 'severity']);
  return new HandledStage(DEFAULT_TOPICS.enriched, (handle) => {
    const runner = new StatefulStageRunner({
      service: 'alert', groupId: settings.groupId, inputTopic: settings.topics.enriched, dlqTopic: settings.topics.dlq, markerTopic: settings.topics.outboxMarkers,
      kafka, db, logger, metrics, clock, partitionConcurrency: settings.partitionConcurrency, blockedNotReadyMs: settings.blockedNotReadyMs, tickMs: settings.tickMs,
      createProcessor: (_partition, _topic, state) => new RulePartitionProcessor(state, ruleSet, settings.topics.alerts, repository, alertsTotal, clock),
      process: (_processor, records, partition) => handle(records, partition) as Promise<StageOutput>,
      beforeStart: () => ruleSet.start(),
    });
    return {
      start: () => runner.start(),
      isReady: () => runner.isReady(),
      stop: async () => {
        await runner.stop();
        await ruleSet.stop();
      },
    };
  });
}
