import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { DATABASE, Database, HttpErrorFilter, serviceModules, LOGGER, Logger, topicsFrom } from '@streamguard/common';
import type { AlertConfig } from './alert.config';
import { AlertsController } from './alerts/alerts.controller';
import { AlertsRepository } from './alerts/alerts.repository';
import { DETECTION_SETTINGS, FraudDetectionConsumer } from './detection/fraud-detection.consumer';
import { RuleSet } from './rules/rule-set';
import { RulesController } from './rules/rules.controller';
import { RulesRepository } from './rules/rules.repository';
import { TENANT_RULE_LIMITS, TenantRuleLimits } from './rules/tenant-rule-limits';

@Module({})
export class AlertModule {
  static forRoot(config: AlertConfig): DynamicModule {
    return {
      module: AlertModule,
      imports: serviceModules('alert', config),
      controllers: [AlertsController, RulesController],
      providers: [
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        {
          provide: DETECTION_SETTINGS,
          useValue: { groupId: `${config.kafkaGroupPrefix}.alert`, topics: topicsFrom(config), tickMs: config.tickMs, partitionConcurrency: config.partitionConcurrency },
        },
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
        FraudDetectionConsumer,
      ],
    };
  }
}
