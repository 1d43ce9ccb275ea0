/** Everything a fresh Kafka + Postgres needs before the services start: schema, demo data, topics. */
import { createKafkaClient, Database, DEFAULT_TOPICS, durabilityConfig, JsonLogger, KafkaSecurity, MIN_INSYNC_REPLICAS, runMigrations, TOPIC_CONFIG, TopicNames, TopicRole } from '@streamguard/common';
import { done, step } from './progress';
import { seedDemoData } from './seed';

const logger = new JsonLogger('warn', { service: 'provision' });

export async function migrateDatabase(databaseUrl: string, seed: boolean): Promise<void> {
  const db = new Database(databaseUrl, 2, logger, 'streamguard-provision');
  try {
    step('Applying database migrations…');
    const applied = await runMigrations(db, logger);
    done(applied.length > 0 ? `Migrations applied: ${applied.join(', ')}` : 'Database schema up to date');
    if (seed) {
      await seedDemoData(db);
      done('Demo reference data and default rules present');
    }
  } finally {
    await db.close();
  }
}

export interface TopicLayout {
  partitions: number;
  replicationFactor: number;
  /** Default: 2 from three replicas on, else 1 (see topic-durability.ts). */
  minInsyncReplicas?: number;
}

/** Creates missing topics with explicit durability settings (existing ones are left as they are). */
export async function createTopics(brokers: string[], layout: TopicLayout, topics: TopicNames = DEFAULT_TOPICS, security?: KafkaSecurity): Promise<void> {
  const { partitions, replicationFactor } = layout;
  const config = durabilityConfig(replicationFactor, layout.minInsyncReplicas);
  const admin = await createKafkaClient({ brokers, clientId: 'streamguard-provision', logger, security }).admin();
  try {
    const created = await admin.ensureTopics((Object.entries(topics) as Array<[TopicRole, string]>).map(([role, topic]) => ({ topic, partitions, replicationFactor, config: { ...config, ...TOPIC_CONFIG[role] } })));
    const settings = `${partitions} partitions, replication factor ${replicationFactor}, ${MIN_INSYNC_REPLICAS} ${config[MIN_INSYNC_REPLICAS]}`;
    done(created.length > 0 ? `Topics created (${settings}): ${created.join(', ')}` : 'Topics present');
  } finally {
    await admin.disconnect();
  }
}

export interface ProvisionOptions {
  brokers: string[];
  databaseUrl: string;
  partitions: number;
  topics?: TopicNames;
  seed: boolean;
}

export async function provision(options: ProvisionOptions): Promise<void> {
  await migrateDatabase(options.databaseUrl, options.seed);
  await createTopics(options.brokers, { partitions: options.partitions, replicationFactor: 1 }, options.topics);
}
