import type { DynamicModule } from '@nestjs/common';
import type { LogLevel } from '../logging/logger';
import { CoreModule } from './core.module';
import { InfrastructureModule } from './infrastructure.module';

export interface ServiceBasics {
  logLevel: LogLevel;
  instanceId: string;
  kafkaBrokers: string[];
  kafkaClientId: string;
  databaseUrl?: string;
  databasePoolSize?: number;
}

/** The modules every service imports: logging, metrics, readiness, the Kafka client and (if configured) Postgres. */
export function serviceModules(service: string, config: ServiceBasics): DynamicModule[] {
  return [
    CoreModule.forService({ service, logLevel: config.logLevel, instanceId: config.instanceId }),
    InfrastructureModule.forService({
      service, instanceId: config.instanceId,
      kafka: { brokers: config.kafkaBrokers, clientId: config.kafkaClientId },
      database: config.databaseUrl ? { url: config.databaseUrl, poolSize: config.databasePoolSize ?? 10 } : undefined,
    }),
  ];
}
