import { createService, exitOnStartupError, listenService, loadConfig, StageTransport } from '@streamguard/common';
import { enrichEnv } from './enrich.config';
import { EnrichModule } from './enrich.module';

async function main(): Promise<void> {
  const config = loadConfig(enrichEnv);
  const options = {
    service: 'enrich', port: config.port, host: config.httpHost, logLevel: config.logLevel, shutdownGraceMs: config.shutdownGraceMs,
    describe: [
      'GET|PUT|DELETE /v1/reference/{accounts,merchants,fx-rates}/:id, /v1/reference/blocklist/:kind/:value (platform admin key)',
      'GET|POST /v1/keys, DELETE /v1/keys/:keyId (admin key)',
    ],
  };
  const app = await createService(EnrichModule.forRoot(config), options);
  app.connectMicroservice({ strategy: app.get(StageTransport) });
  await app.startAllMicroservices();
  await listenService(app, options);
}

main().catch(exitOnStartupError('enrich'));
