import { DynamicModule, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CLOCK, Clock, HttpErrorFilter, serviceModules, KAFKA, KafkaPort, LOGGER, Logger, READINESS, ReadinessRegistry } from '@streamguard/common';
import { EVENT_PUBLISHER, KafkaEventPublisher } from './events/event-publisher';
import { EventsController } from './events/events.controller';
import { INGEST_LIMITS, IngestEventsService } from './events/ingest-events.service';
import type { IngestConfig } from './ingest.config';

class PublisherWarmUp implements OnApplicationBootstrap {
  constructor(
    @Inject(EVENT_PUBLISHER) private readonly publisher: KafkaEventPublisher,
    @Inject(READINESS) private readonly readiness: ReadinessRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.readiness.register('kafka', () => this.publisher.isReady() || this.publisher.connect().then(() => true, () => false));
    // Connect in the background: the HTTP server (and /healthz) must come up even while Kafka is down.
    this.publisher.connect().catch((error) => this.logger.warn('Kafka not reachable yet; requests get 503 until it is', { error: (error as Error).message }));
  }
}

@Module({})
export class IngestModule {
  static forRoot(config: IngestConfig): DynamicModule {
    return {
      module: IngestModule,
      // Postgres only feeds the in-memory API key table: an outage must not stop ingestion.
      imports: serviceModules('ingest', { ...config, databaseInReadiness: false }),
      controllers: [EventsController],
      providers: [
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        {
          provide: INGEST_LIMITS,
          useValue: {
            maxBatchEvents: config.maxBatchEvents, produceTimeoutMs: config.produceTimeoutMs,
            maxInFlightEvents: config.maxInFlightEvents, idempotencyKeys: config.idempotencyKeys,
          },
        },
        {
          provide: EVENT_PUBLISHER, inject: [KAFKA, CLOCK, LOGGER],
          useFactory: (kafka: KafkaPort, clock: Clock, logger: Logger) =>
            new KafkaEventPublisher(kafka, config.topic_raw, config.kafkaProducers, { intervalMs: config.progressIntervalMs, clock, logger }),
        },
        IngestEventsService,
        PublisherWarmUp,
      ],
    };
  }
}
