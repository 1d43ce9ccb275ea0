/**
 * Starts Kafka + Postgres for the test suite (fresh data, test ports), provisions them, prints one line
 * `STREAMGUARD_INFRA {json}` with the addresses, and runs until SIGTERM or until its parent closes stdin.
 * If any step fails, what already started is stopped before it exits.
 */
import { RunningKafka, startKafkaBroker } from './kafka-broker';
import { RunningPostgres, startEmbeddedPostgres } from './embedded-postgres';
import { testInfraHome } from './paths';
import { provision } from './provision';

let kafka: RunningKafka | undefined;
let postgres: RunningPostgres | undefined;

async function stopAll(): Promise<void> {
  await Promise.allSettled([kafka?.stop(), postgres?.stop()]);
}

async function main(): Promise<void> {
  const home = testInfraHome();
  const kafkaPort = Number(process.env.TEST_KAFKA_PORT ?? 19092);
  const pgPort = Number(process.env.TEST_POSTGRES_PORT ?? 15433);
  const external = { brokers: process.env.KAFKA_BROKERS, databaseUrl: process.env.DATABASE_URL };
  if (!external.brokers) kafka = await startKafkaBroker({ home, port: kafkaPort, controllerPort: kafkaPort + 1, fresh: true, heapMb: 1024 });
  if (!external.databaseUrl) postgres = await startEmbeddedPostgres({ home, port: pgPort, fresh: true });
  const brokers = external.brokers ?? kafka!.brokers;
  const databaseUrl = external.databaseUrl ?? postgres!.url;
  await provision({ brokers: brokers.split(','), databaseUrl, partitions: Number(process.env.TEST_PARTITIONS ?? 3), seed: true });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await stopAll();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
  // The broker's pid lets fault tests pause it (SIGSTOP); absent with an external broker.
  process.stdout.write(`STREAMGUARD_INFRA ${JSON.stringify({ brokers, databaseUrl, adminUrl: postgres?.adminUrl ?? databaseUrl, brokerPid: kafka?.process.pid })}\n`);
}

main().catch(async (error) => {
  process.stderr.write(`test infrastructure failed to start: ${(error as Error).stack}\n`);
  await stopAll();
  process.exit(1);
});
