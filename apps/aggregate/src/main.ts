import { bootstrapService, exitOnStartupError, loadConfig } from '@streamguard/common';
import { aggregateEnv } from './aggregate.config';
import { AggregateModule } from './aggregate.module';

async function main(): Promise<void> {
  const config = loadConfig(aggregateEnv);
  await bootstrapService(AggregateModule.forRoot(config), {
    service: 'aggregate', port: config.port, host: config.httpHost, logLevel: config.logLevel, shutdownGraceMs: config.shutdownGraceMs,
    describe: ['GET /v1/aggregates'],
  });
}

main().catch(exitOnStartupError('aggregate'));
