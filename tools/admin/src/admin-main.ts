/**
 * Operations CLI (used by the Helm hook Jobs and by hand):
 *   migrate [--seed]                          apply database migrations (and demo data)
 *   create-topics [--partitions N] [--replication-factor R]
 *   fetch-kafka                               download the local broker's jars (Maven) ahead of time
 * Reads DATABASE_URL, KAFKA_BROKERS and the TOPIC_* variables like the services do.
 */
import { databaseEnv, intVar, kafkaEnv, kafkaSecurityFromEnv, loadConfig, topicEnv, topicsFrom } from '@streamguard/common';
import { ensureKafkaJars } from '../../local-infra/src/kafka-broker';
import { streamguardHome } from '../../local-infra/src/paths';
import { fail } from '../../local-infra/src/progress';
import { createTopics, migrateDatabase } from '../../local-infra/src/provision';

function flag(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
  const command = process.argv[2];
  switch (command) {
    case 'migrate': {
      const { databaseUrl } = loadConfig({ databaseUrl: databaseEnv.databaseUrl });
      await migrateDatabase(databaseUrl, process.argv.includes('--seed'));
      return;
    }
    case 'create-topics': {
      const config = loadConfig({
        ...kafkaEnv, ...topicEnv,
        partitions: intVar('TOPIC_PARTITIONS', 'Partitions per topic created by `admin create-topics`.', Number(flag('partitions') ?? 6), 1, 10_000),
        replicationFactor: intVar('TOPIC_REPLICATION_FACTOR', 'Replication factor of topics created by `admin create-topics`.', Number(flag('replication-factor') ?? 1), 1, 10),
      });
      await createTopics(config.kafkaBrokers, config.partitions, config.replicationFactor, topicsFrom(config), kafkaSecurityFromEnv(config));
      return;
    }
    case 'fetch-kafka':
      await ensureKafkaJars(streamguardHome());
      return;
    default:
      fail(`usage: admin <migrate [--seed] | create-topics [--partitions N] [--replication-factor R] | fetch-kafka>${command ? ` (unknown command "${command}")` : ''}`);
  }
}

main().catch((error) => fail((error as Error).message));
