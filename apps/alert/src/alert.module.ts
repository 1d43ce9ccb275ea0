import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import {
  CLOCK, Clock, CONSUMING_STAGES, DATABASE, Database, HttpErrorFilter, KAFKA, KafkaPort, LOGGER, Logger, METRICS, Metrics, serviceModules,
  STAGE_SERVICE, StageTransport, topicsFrom,
} from '@streamguard/common';
import type { AlertConfig } from './alert.config';
import { AlertsController } from './alerts/alerts.controller';
import { AlertsRepository } from './alerts/alerts.repository';
import { FraudDetectionController } from './detection/fraud-detection.controller';
import { DetectionSettings, fraudDetectionStage } from './detection/fraud-detection.stage';
import { RuleSet } from './rules/rule-set';
import { RulesController } from './rules/rules.controller';
import { RulesRepository } from './rules/rules.repository';
import { TENANT_RULE_LIMITS, TenantRuleLimits } from './rules/tenant-rule-limits';

@Module({})
export class AlertModule {
  static forRoot(config: AlertConfig): DynamicModule {
    const settings: DetectionSettings = {
      groupId: `${config.kafkaGroupPrefix}.alert`, topics: topicsFrom(config), tickMs: config.tickMs, partitionConcurrency: config.partitionConcurrency,
      blockedNotReadyMs: config.partitionBlockedNotReadyMs,
    };
    return {
      module: AlertModule,
      imports: serviceModules('alert', config),
      controllers: [AlertsController, RulesController, FraudDetectionController],
      providers: [
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        {
          provide: TENANT_RULE_LIMITS,
          useValue: { maxRulesPerTenant: config.rulesMaxPerTenant, tenantMaxWindowMs: config.rulesTenantMaxWindowMs } satisfies TenantRuleLimits,
        },
        { provide: RulesRepository, inject: [DATABASE, LOGGER], useFactory: (db: Database, logger: Logger) => new RulesRepository(db, logger) },
        {
          provide: RuleSet, inject: [RulesRepository, DATABASE, LOGGER],
          useFactory: (repository: RulesRepository, db: Database, logger: Logger) => new RuleSet(repository, db, logger, config.rulesPollMs),
        },
        AlertsRepository,
        { provide: STAGE_SERVICE, useValue: 'alert' },
        {
          provide: CONSUMING_STAGES, inject: [KAFKA, DATABASE, LOGGER, METRICS, CLOCK, RuleSet, AlertsRepository],
          useFactory: (kafka: KafkaPort, db: Database, logger: Logger, metrics: Metrics, clock: Clock, ruleSet: RuleSet, repository: AlertsRepository) => [
            fraudDetectionStage(settings, { kafka, db, logger, metrics, clock, ruleSet, repository }),
          ],
        },
        StageTransport,
      ],
    };
  }
}
