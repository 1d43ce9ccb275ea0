import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import {
  CLOCK, Clock, DATABASE, Database, KAFKA, KafkaPort, keepTrying, LOGGER, Logger, METRICS, Metrics, READINESS, ReadinessRegistry,
  StatefulStageRunner, TopicNames,
} from '@streamguard/common';
import { AlertsRepository } from '../alerts/alerts.repository';
import { RuleSet } from '../rules/rule-set';
import { RulePartitionProcessor } from './rule-partition.processor';

export interface DetectionSettings {
  groupId: string;
  topics: TopicNames;
  tickMs: number;
  partitionConcurrency: number;
}
export const DETECTION_SETTINGS = Symbol('DetectionSettings');

/**
 * `events.enriched` → rules → `alerts` + the `alerts` table. Rule state, alerts and input offsets commit in
 * one Postgres transaction (see PostgresStatefulStage): a replay never yields a second alert.
 */
@Injectable()
export class FraudDetectionConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly runner: StatefulStageRunner;
  private stopTrying?: () => void;

  constructor(
    @Inject(DETECTION_SETTINGS) settings: DetectionSettings,
    @Inject(KAFKA) kafka: KafkaPort,
    @Inject(DATABASE) db: Database,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) metrics: Metrics,
    @Inject(CLOCK) clock: Clock,
    @Inject(READINESS) private readonly readiness: ReadinessRegistry,
    @Inject(RuleSet) private readonly ruleSet: RuleSet,
    @Inject(AlertsRepository) repository: AlertsRepository,
  ) {
    const alertsTotal = metrics.counter('alerts_total', 'Fraud alerts raised (new alertIds), by rule (its id; `<id>@<tenant>` for a tenant rule) and severity.', ['rule', 'severity']);
    this.runner = new StatefulStageRunner({
      service: 'alert', groupId: settings.groupId, inputTopic: settings.topics.enriched, dlqTopic: settings.topics.dlq,
      kafka, db, logger, metrics, clock, partitionConcurrency: settings.partitionConcurrency, tickMs: settings.tickMs,
      createProcessor: (_partition, _topic, state) => new RulePartitionProcessor(state, ruleSet, settings.topics.alerts, repository, alertsTotal, clock),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.readiness.register('kafka', () => this.runner.isReady());
    // No event may be evaluated before the rules are loaded: consuming starts only after the first load.
    this.stopTrying = keepTrying('rules', async () => {
      await this.ruleSet.start();
      this.runner.start();
    }, this.logger);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopTrying?.();
    await this.runner.stop();
    await this.ruleSet.stop();
  }
}
