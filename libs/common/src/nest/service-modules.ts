import type { DynamicModule } from '@nestjs/common';
import { kafkaSecurityFromEnv } from '../kafka/kafkajs-client';
import type { KafkaEnv } from '../config/common-env';
import type { LogLevel } from '../logging/logger';
import { CoreModule } from './core.module';
import { InfrastructureModule } from './infrastructure.module';

export interface ServiceBasics extends KafkaEnv {
  logLevel: LogLevel;
  instanceId: string;
  databaseUrl?: string;
  databasePoolSize?: number;
}

/** The modules every service imports: logging, metrics, readiness, the Kafka client and (if configured) Postgres. */
export function serviceModules(service: string, config: ServiceBasics): DynamicModule[] {
  return [
    CoreModule.forService({ service, logLevel: config.logLevel, instanceId: config.instanceId }),
    InfrastructureModule.forService({
      service, instanceId: config.instanceId,
      kafka: { brokers: config.kafkaBrokers, clientId: config.kafkaClientId, security: kafkaSecurityFromEnv(config) },
      database: config.databaseUrl ? { url: config.databaseUrl, poolSize: config.databasePoolSize ?? 10 } : undefined,
    }),
  ];
}
