import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { DATABASE, Database, HttpErrorFilter, serviceModules, topicsFrom } from '@streamguard/common';
import { ApiKeysController } from './api-keys/api-keys.controller';
import type { EnrichConfig } from './enrich.config';
import { ENRICHMENT_SETTINGS, EnrichmentConsumer, EnrichmentSettings } from './enrichment/enrichment.consumer';
import { ReferenceDataController } from './reference-data/reference-data.controller';
import { ReferenceDataRepository } from './reference-data/reference-data.repository';

@Module({})
export class EnrichModule {
  static forRoot(config: EnrichConfig): DynamicModule {
    const settings: EnrichmentSettings = {
      groupId: `${config.kafkaGroupPrefix}.enrich`, topics: topicsFrom(config), cacheTtlMs: config.cacheTtlMs,
      referencePollMs: config.referencePollMs, partitionConcurrency: config.partitionConcurrency,
    };
    return {
      module: EnrichModule,
      imports: serviceModules('enrich', config),
      controllers: [ReferenceDataController, ApiKeysController],
      providers: [
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: ENRICHMENT_SETTINGS, useValue: settings },
        { provide: ReferenceDataRepository, inject: [DATABASE], useFactory: (db: Database) => new ReferenceDataRepository(db) },
        EnrichmentConsumer,
      ],
    };
  }
}
