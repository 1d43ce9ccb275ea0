import { createService, exitOnStartupError, listenService, loadConfig, StageTransport } from '@streamguard/common';
import { alertEnv } from './alert.config';
import { AlertModule } from './alert.module';

async function main(): Promise<void> {
  const config = loadConfig(alertEnv);
  const options = {
    service: 'alert', port: config.port, host: config.httpHost, logLevel: config.logLevel, shutdownGraceMs: config.shutdownGraceMs,
    describe: ['GET /v1/alerts', 'GET|POST /v1/rules', 'GET|PUT|DELETE /v1/rules/:id'],
  };
  const app = await createService(AlertModule.forRoot(config), options);
  app.connectMicroservice({ strategy: app.get(StageTransport) });
  await app.startAllMicroservices();
  await listenService(app, options);
}

main().catch(exitOnStartupError('alert'));
