import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import {
  CLOCK, Clock, CONSUMING_STAGES, DATABASE, Database, HttpErrorFilter, KAFKA, KafkaPort, LOGGER, Logger, METRICS, Metrics, serviceModules,
  STAGE_SERVICE, StageTransport, topicsFrom,
} from '@streamguard/common';
import { ApiKeysController } from './api-keys/api-keys.controller';
import type { EnrichConfig } from './enrich.config';
import { EnrichmentController } from './enrichment/enrichment.controller';
import { EnrichmentService } from './enrichment/enrichment.service';
import { ENRICHMENT_SETTINGS, enrichmentStage, EnrichmentSettings } from './enrichment/enrichment.stage';
import { ReferenceDataController } from './reference-data/reference-data.controller';
import { ReferenceDataRepository } from './reference-data/reference-data.repository';

@Module({})
export class EnrichModule {
  static forRoot(config: EnrichConfig): DynamicModule {
    const settings: EnrichmentSettings = {
      groupId: `${config.kafkaGroupPrefix}.enrich`, topics: topicsFrom(config), cacheTtlMs: config.cacheTtlMs,
      referencePollMs: config.referencePollMs, partitionConcurrency: config.partitionConcurrency,
      blockedNotReadyMs: config.partitionBlockedNotReadyMs, ingestSourceTimeoutMs: config.ingestSourceTimeoutMs,
    };
    return {
      module: EnrichModule,
      imports: serviceModules('enrich', config),
      controllers: [ReferenceDataController, ApiKeysController, EnrichmentController],
      providers: [
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: ENRICHMENT_SETTINGS, useValue: settings },
        { provide: ReferenceDataRepository, inject: [DATABASE], useFactory: (db: Database) => new ReferenceDataRepository(db) },
        EnrichmentService,
        { provide: STAGE_SERVICE, useValue: 'enrich' },
        {
          provide: CONSUMING_STAGES, inject: [KAFKA, LOGGER, METRICS, CLOCK],
          useFactory: (kafka: KafkaPort, logger: Logger, metrics: Metrics, clock: Clock) => [enrichmentStage(settings, { kafka, logger, metrics, clock })],
        },
        StageTransport,
      ],
    };
  }
}
