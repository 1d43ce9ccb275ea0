import { DynamicModule, Global, Module } from '@nestjs/common';
import { JsonLogger, Logger, LogLevel } from '../logging/logger';
import { PrometheusMetrics } from '../metrics/prometheus-metrics';
import { systemClock } from '../time/clock';
import { ObservabilityController } from './observability.controller';
import { ReadinessRegistry } from './readiness';
import { CLOCK, LOGGER, METRICS, READINESS } from './tokens';

export interface CoreModuleOptions {
  service: string;
  logLevel: LogLevel;
  instanceId: string;
}

/** Logger, metrics, clock and readiness for one service, plus the `/healthz`, `/readyz`, `/metrics` endpoints. */
@Global()
@Module({})
export class CoreModule {
  static forService(options: CoreModuleOptions): DynamicModule {
    const logger: Logger = new JsonLogger(options.logLevel, { service: options.service, instance: options.instanceId });
    return {
      module: CoreModule,
      controllers: [ObservabilityController],
      providers: [
        { provide: LOGGER, useValue: logger },
        { provide: METRICS, useValue: new PrometheusMetrics(options.service) },
        { provide: CLOCK, useValue: systemClock },
        { provide: READINESS, useValue: new ReadinessRegistry() },
      ],
      exports: [LOGGER, METRICS, CLOCK, READINESS],
    };
  }
}
