/** Everything a fresh Kafka + Postgres needs before the services start: schema, demo data, topics. */
import { createKafkaClient, Database, DEFAULT_TOPICS, JsonLogger, runMigrations, TopicNames } from '@streamguard/common';
import { done, step } from './progress';
import { seedDemoData } from './seed';

export interface ProvisionOptions {
  brokers: string[];
  databaseUrl: string;
  partitions: number;
  topics?: TopicNames;
  seed: boolean;
}

export async function provision(options: ProvisionOptions): Promise<void> {
  const logger = new JsonLogger('warn', { service: 'provision' });
  const db = new Database(options.databaseUrl, 2, logger, 'streamguard-provision');
  try {
    step('Applying database migrations…');
    const applied = await runMigrations(db, logger);
    done(applied.length > 0 ? `Migrations applied: ${applied.join(', ')}` : 'Database schema up to date');
    if (options.seed) {
      await seedDemoData(db);
      done('Demo reference data and default rules present');
    }
  } finally {
    await db.close();
  }
  const topics = options.topics ?? DEFAULT_TOPICS;
  const admin = await createKafkaClient({ brokers: options.brokers, clientId: 'streamguard-provision', logger }).admin();
  try {
    const created = await admin.ensureTopics(Object.values(topics).map((topic) => ({
      topic, partitions: options.partitions, replicationFactor: 1,
    })));
    done(created.length > 0 ? `Topics created (${options.partitions} partitions): ${created.join(', ')}` : 'Topics present');
  } finally {
    await admin.disconnect();
  }
}
