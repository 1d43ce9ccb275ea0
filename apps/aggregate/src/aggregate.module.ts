import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import {
  CLOCK, Clock, CONSUMING_STAGES, DATABASE, Database, HttpErrorFilter, KAFKA, KafkaPort, LOGGER, Logger, METRICS, Metrics, serviceModules,
  STAGE_SERVICE, StageTransport, topicsFrom,
} from '@streamguard/common';
import type { AggregateConfig } from './aggregate.config';
import { AggregatesController } from './aggregates/aggregates.controller';
import { WindowResultsRepository } from './aggregates/window-results.repository';
import { EventRepartitioner } from './repartition/event-repartitioner';
import { RepartitionService } from './repartition/repartition.service';
import { WindowAggregationController } from './windowing/window-aggregation.controller';
import { routedDefinitions, windowAggregationStages, WindowingSettings } from './windowing/window-aggregation.stages';

@Module({})
export class AggregateModule {
  static forRoot(config: AggregateConfig): DynamicModule {
    const settings: WindowingSettings = {
      groupId: `${config.kafkaGroupPrefix}.aggregate`, topics: topicsFrom(config), definitions: config.windowDefinitions,
      maxOutOfOrdernessMs: config.maxOutOfOrdernessMs, idleTimeoutMs: config.idleTimeoutMs, maxFutureSkewMs: config.maxFutureSkewMs,
      tickMs: config.tickMs, partitionConcurrency: config.partitionConcurrency,
      blockedNotReadyMs: config.partitionBlockedNotReadyMs,
    };
    return {
      module: AggregateModule,
      imports: serviceModules('aggregate', config),
      controllers: [AggregatesController, WindowAggregationController],
      providers: [
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        WindowResultsRepository,
        {
          provide: EventRepartitioner,
          useFactory: () => new EventRepartitioner({ ...routedDefinitions(settings), topics: settings.topics, maxFutureSkewMs: settings.maxFutureSkewMs }),
        },
        RepartitionService,
        { provide: STAGE_SERVICE, useValue: 'aggregate' },
        {
          provide: CONSUMING_STAGES, inject: [KAFKA, DATABASE, LOGGER, METRICS, CLOCK, WindowResultsRepository],
          useFactory: (kafka: KafkaPort, db: Database, logger: Logger, metrics: Metrics, clock: Clock, repository: WindowResultsRepository) =>
            windowAggregationStages(settings, { kafka, db, logger, metrics, clock, repository }),
        },
        StageTransport,
      ],
    };
  }
}
