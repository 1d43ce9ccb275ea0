import { authenticateBeforeBody, bootstrapService, exitOnStartupError, loadConfig } from '@streamguard/common';
import { registerEventBodyParsers } from './events/body-parsers';
import { ingestEnv } from './ingest.config';
import { IngestModule } from './ingest.module';

async function main(): Promise<void> {
  const config = loadConfig(ingestEnv);
  await bootstrapService(IngestModule.forRoot(config), {
    service: 'ingest', port: config.port, host: config.httpHost, logLevel: config.logLevel,
    shutdownGraceMs: config.shutdownGraceMs, bodyLimit: config.maxBodyBytes,
    describe: ['POST /v1/events'],
    bodyParser: false,
    configure: (app) => {
      authenticateBeforeBody(app, [{ method: 'POST', url: '/v1/events', scope: 'ingest' }]);
      registerEventBodyParsers(app);
    },
  });
}

main().catch(exitOnStartupError('ingest'));
