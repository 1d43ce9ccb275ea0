import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule, InfrastructureModule, topicsFrom } from '@streamguard/common';
import type { EnrichConfig } from './enrich.config';
import { ENRICHMENT_SETTINGS, EnrichmentConsumer } from './enrichment/enrichment.consumer';

@Module({})
export class EnrichModule {
  static forRoot(config: EnrichConfig): DynamicModule {
    return {
      module: EnrichModule,
      imports: [
        CoreModule.forService({ service: 'enrich', logLevel: config.logLevel, instanceId: config.instanceId }),
        InfrastructureModule.forService({
          service: 'enrich', instanceId: config.instanceId,
          kafka: { brokers: config.kafkaBrokers, clientId: config.kafkaClientId },
          database: { url: config.databaseUrl, poolSize: config.databasePoolSize },
        }),
      ],
      providers: [
        {
          provide: ENRICHMENT_SETTINGS,
          useValue: { groupId: `${config.kafkaGroupPrefix}.enrich`, topics: topicsFrom(config), cacheTtlMs: config.cacheTtlMs, partitionConcurrency: config.partitionConcurrency },
        },
        EnrichmentConsumer,
      ],
    };
  }
}
