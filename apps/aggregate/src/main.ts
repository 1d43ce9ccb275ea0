import { createService, exitOnStartupError, listenService, loadConfig, StageTransport } from '@streamguard/common';
import { aggregateEnv } from './aggregate.config';
import { AggregateModule } from './aggregate.module';

async function main(): Promise<void> {
  const config = loadConfig(aggregateEnv);
  const options = {
    service: 'aggregate', port: config.port, host: config.httpHost, logLevel: config.logLevel, shutdownGraceMs: config.shutdownGraceMs,
    describe: ['GET /v1/aggregates'],
  };
  const app = await createService(AggregateModule.forRoot(config), options);
  app.connectMicroservice({ strategy: app.get(StageTransport) });
  await app.startAllMicroservices();
  await listenService(app, options);
}

main().catch(exitOnStartupError('aggregate'));
