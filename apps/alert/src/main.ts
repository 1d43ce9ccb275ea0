import { bootstrapService, exitOnStartupError, loadConfig } from '@streamguard/common';
import { alertEnv } from './alert.config';
import { AlertModule } from './alert.module';

async function main(): Promise<void> {
  const config = loadConfig(alertEnv);
  await bootstrapService(AlertModule.forRoot(config), {
    service: 'alert', port: config.port, host: config.httpHost, logLevel: config.logLevel, shutdownGraceMs: config.shutdownGraceMs,
    describe: ['GET /v1/alerts', 'GET|POST /v1/rules', 'GET|PUT|DELETE /v1/rules/:id'],
  });
}

main().catch(exitOnStartupError('alert'));
