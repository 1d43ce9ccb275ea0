/**
 * `npm start`: the whole pipeline on this machine. A real Kafka broker (KRaft) and an embedded Postgres
 * (unless KAFKA_BROKERS / DATABASE_URL point elsewhere), migrations, demo data, topics, then the four
 * services as separate processes with prefixed logs. Ctrl-C stops everything gracefully; the next start
 * reuses the data in .streamguard/.
 */
import { startKafkaBroker, RunningKafka } from '../../local-infra/src/kafka-broker';
import { startEmbeddedPostgres, RunningPostgres } from '../../local-infra/src/embedded-postgres';
import { streamguardHome } from '../../local-infra/src/paths';
import { done, fail, step } from '../../local-infra/src/progress';
import { provision } from '../../local-infra/src/provision';
import { DEMO_TENANT, DevKeys, devKeysFile, ensureDevKeys } from '../../local-infra/src/dev-keys';
import { DEFAULT_PORTS, PORT_ENV, SERVICES, ServiceProcess, startService, waitUntilReady } from '../../local-infra/src/service-process';
import { loadConfig } from '@streamguard/common';
import { prefixer } from './log-formatter';
import { stackEnv } from './stack.config';

async function main(): Promise<void> {
  const config = loadConfig(stackEnv);
  const home = streamguardHome();
  let kafka: RunningKafka | undefined;
  let postgres: RunningPostgres | undefined;
  const services: ServiceProcess[] = [];
  let keys: DevKeys | undefined;
  let shuttingDown = false;

  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    step('Stopping services…');
    await Promise.allSettled(services.map((s) => s.stop()));
    step('Stopping Kafka and Postgres…');
    await Promise.allSettled([kafka?.stop(), postgres?.stop()]);
    const relocated = postgres && !postgres.dataDir.startsWith(home) ? ` and ${postgres.dataDir}` : '';
    done(`Stopped. Data kept in ${home}${relocated} (delete ${home} for a clean slate).`);
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  // A surprise anywhere (an 'error' event nobody listens to…) still stops what is already running.
  const crash = (error: unknown) => {
    process.stderr.write(`\n${error instanceof Error ? error.message : String(error)}\n`);
    void shutdown(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  try {
    const brokers = process.env.KAFKA_BROKERS ?? (kafka = await startKafkaBroker({ home, port: config.kafkaPort, controllerPort: config.kafkaPort + 1 })).brokers;
    const databaseUrl = process.env.DATABASE_URL ?? (postgres = await startEmbeddedPostgres({ home, port: config.postgresPort })).url;
    if (process.env.KAFKA_BROKERS) done(`Using Kafka at ${brokers} (KAFKA_BROKERS)`);
    if (process.env.DATABASE_URL) done('Using Postgres from DATABASE_URL');
    await provision({ brokers: brokers.split(','), databaseUrl, partitions: config.partitions, seed: true });
    keys = await ensureDevKeys(databaseUrl, home);

    step('Starting ingest, enrich, aggregate and alert…');
    const width = Math.max(...SERVICES.map((s) => s.length));
    SERVICES.forEach((name, index) => {
      const port = Number(process.env[PORT_ENV[name]] ?? DEFAULT_PORTS[name]);
      const format = prefixer(name, index, width, config.prettyLogs);
      const service = startService(name, port, { KAFKA_BROKERS: brokers, DATABASE_URL: databaseUrl }, (line) => process.stdout.write(format(line) + '\n'));
      service.process.once('exit', (code, signal) => {
        if (!shuttingDown) {
          process.stderr.write(`${name} exited (${signal ?? code}); stopping the stack. See its log lines above.\n`);
          void shutdown(1);
        }
      });
      services.push(service);
    });
    await Promise.all(services.map((s) => waitUntilReady(s, 90_000)));
  } catch (error) {
    process.stderr.write(`\n${(error as Error).message}\n`);
    await shutdown(1);
    return;
  }

  const [ingest, enrich, aggregate, alert] = services;
  done('Streamguard is up.');
  process.stderr.write(`
  ingest     ${ingest.url}/v1/events      (POST events)
  enrich     ${enrich.url}/metrics
  aggregate  ${aggregate.url}/v1/aggregates
  alert      ${alert.url}/v1/alerts   ${alert.url}/v1/rules

  API keys (kept in ${devKeysFile(home)}):
    tenant "${DEMO_TENANT}" (ingest, read, admin):   ${keys!.tenant}
    platform admin (merchants, FX, blocklists, global rules): ${keys!.platform}

  Try it:
    export STREAMGUARD_API_KEY=${keys!.tenant}
    curl -s -X POST ${ingest.url}/v1/events -H "authorization: Bearer $STREAMGUARD_API_KEY" -H 'content-type: application/json' \\
      -d '{"eventId":"demo-1","occurredAt":"'$(date -u +%Y-%m-%dT%H:%M:%SZ)'","accountId":"acc-1","amount":25000,"currency":"EUR","merchantId":"mer-2"}'
    curl -s -H "authorization: Bearer $STREAMGUARD_API_KEY" '${alert.url}/v1/alerts?accountId=acc-1'

  Ctrl-C stops everything.
`);
}

main().catch((error) => fail((error as Error).message));
