import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { createKafkaClient } from '../kafka/librdkafka-client';
import type { KafkaSecurity } from '../kafka/kafka-security';
import type { KafkaPort } from '../kafka/kafka.port';
import type { Logger } from '../logging/logger';
import { Database } from '../postgres/database';
import type { ReadinessRegistry } from './readiness';
import { DATABASE, KAFKA, LOGGER, READINESS } from './tokens';

export interface InfrastructureOptions {
  service: string;
  instanceId: string;
  kafka: { brokers: string[]; clientId: string; security?: KafkaSecurity; fetchMaxWaitMs?: number };
  /**
   * Omit for a service without Postgres. `inReadiness: false` when Postgres being down must not take the
   * service out of its load balancer (ingest: it only reloads API keys from it and keeps the last copy).
   */
  database?: { url: string; poolSize: number; inReadiness?: boolean };
}

class DatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly db: Database) {}
  // Runs after the consumers stopped (they close in beforeApplicationShutdown).
  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}

/** The Kafka client and (optionally) the Postgres pool of one service. */
@Global()
@Module({})
export class InfrastructureModule {
  static forService(options: InfrastructureOptions): DynamicModule {
    const providers: DynamicModule['providers'] = [
      {
        provide: KAFKA,
        inject: [LOGGER],
        useFactory: (logger: Logger): KafkaPort => createKafkaClient({
          brokers: options.kafka.brokers,
          clientId: `${options.kafka.clientId}-${options.service}-${options.instanceId}`,
          logger: logger.child({ component: 'kafka' }),
          security: options.kafka.security,
          fetchMaxWaitMs: options.kafka.fetchMaxWaitMs,
        }),
      },
    ];
    const exports: symbol[] = [KAFKA];
    if (options.database) {
      const { url, poolSize, inReadiness = true } = options.database;
      providers.push(
        {
          provide: DATABASE,
          inject: [LOGGER, READINESS],
          useFactory: (logger: Logger, readiness: ReadinessRegistry) => {
            const db = new Database(url, poolSize, logger.child({ component: 'postgres' }), `streamguard-${options.service}`);
            if (inReadiness) readiness.register('postgres', () => db.ping());
            return db;
          },
        },
        DatabaseCloser,
      );
      exports.push(DATABASE);
    }
    return { module: InfrastructureModule, providers, exports };
  }
}
