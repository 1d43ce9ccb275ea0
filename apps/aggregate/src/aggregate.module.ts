import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { HttpErrorFilter, serviceModules, topicsFrom } from '@streamguard/common';
import type { AggregateConfig } from './aggregate.config';
import { AggregatesController } from './aggregates/aggregates.controller';
import { WindowResultsRepository } from './aggregates/window-results.repository';
import { WINDOWING_SETTINGS, WindowAggregationConsumer } from './windowing/window-aggregation.consumer';

@Module({})
export class AggregateModule {
  static forRoot(config: AggregateConfig): DynamicModule {
    return {
      module: AggregateModule,
      imports: serviceModules('aggregate', config),
      controllers: [AggregatesController],
      providers: [
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        {
          provide: WINDOWING_SETTINGS,
          useValue: {
            groupId: `${config.kafkaGroupPrefix}.aggregate`, topics: topicsFrom(config), definitions: config.windowDefinitions,
            maxOutOfOrdernessMs: config.maxOutOfOrdernessMs, idleTimeoutMs: config.idleTimeoutMs, maxFutureSkewMs: config.maxFutureSkewMs,
            tickMs: config.tickMs, partitionConcurrency: config.partitionConcurrency,
          },
        },
        WindowResultsRepository,
        WindowAggregationConsumer,
      ],
    };
  }
}
