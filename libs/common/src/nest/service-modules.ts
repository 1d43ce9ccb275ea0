import type { DynamicModule } from '@nestjs/common';
import { kafkaSecurityFromEnv } from '../kafka/kafka-security';
import type { KafkaEnv } from '../config/common-env';
import type { LogLevel } from '../logging/logger';
import { AuthModule } from './auth';
import { CoreModule } from './core.module';
import { InfrastructureModule } from './infrastructure.module';

export interface ServiceBasics extends KafkaEnv {
  logLevel: LogLevel;
  instanceId: string;
  databaseUrl?: string;
  databasePoolSize?: number;
  /** Whether `/readyz` fails while Postgres is unreachable (default true). */
  databaseInReadiness?: boolean;
  rateLimitPerSecond?: number;
  rateLimitBurst?: number;
  apiKeysPollMs?: number;
}

/**
 * The modules every service imports: logging, metrics, readiness, the Kafka client and, with Postgres, the
 * API key guard (every HTTP route needs a key unless marked `@Public()`).
 */
export function serviceModules(service: string, config: ServiceBasics): DynamicModule[] {
  const modules = [
    CoreModule.forService({ service, logLevel: config.logLevel, instanceId: config.instanceId }),
    InfrastructureModule.forService({
      service, instanceId: config.instanceId,
      kafka: { brokers: config.kafkaBrokers, clientId: config.kafkaClientId, security: kafkaSecurityFromEnv(config), fetchMaxWaitMs: config.kafkaFetchMaxWaitMs },
      database: config.databaseUrl ? { url: config.databaseUrl, poolSize: config.databasePoolSize ?? 10, inReadiness: config.databaseInReadiness } : undefined,
    }),
  ];
  if (config.databaseUrl) {
    modules.push(AuthModule.forService({
      service,
      defaultLimits: { ratePerSecond: config.rateLimitPerSecond ?? 5_000, burst: config.rateLimitBurst ?? 10_000 },
      reloadPollMs: config.apiKeysPollMs ?? 30_000,
    }));
  }
  return modules;
}
