/** Access to the infrastructure started by test/setup/global-setup.ts, and per-test isolation helpers. */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import {
  createKafkaClient, Database, DEFAULT_TOPICS, InboundRecord, isProgressMarkerRecord, JsonLogger, KafkaPort, TOPIC_CONFIG, TopicNames, TOPIC_ENV, TopicRole,
} from '@streamguard/common';

/** `brokerPid`: the test broker's process, for tests that pause it; undefined with an external broker. */
export function testInfra(): { brokers: string; databaseUrl: string; adminUrl: string; brokerPid?: number } {
  const brokers = process.env.TEST_KAFKA_BROKERS;
  const databaseUrl = process.env.TEST_DATABASE_URL;
  if (!brokers || !databaseUrl) throw new Error('integration tests need the global setup (run them with `npm test` or `npm run test:int`)');
  const brokerPid = process.env.TEST_KAFKA_PID ? Number(process.env.TEST_KAFKA_PID) : undefined;
  return { brokers, databaseUrl, adminUrl: process.env.TEST_DATABASE_ADMIN_URL ?? databaseUrl, brokerPid };
}

/** A name no other test (or earlier run) uses: topics, groups, ids. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export const quietLogger = new JsonLogger('error', { service: 'test' });

export function testKafka(): KafkaPort {
  return createKafkaClient({ brokers: testInfra().brokers.split(','), clientId: uniqueName('test'), logger: quietLogger });
}

export function testDatabase(): Database {
  return new Database(testInfra().databaseUrl, 4, quietLogger, 'streamguard-test');
}

/** A Database for the enclosing `describe` block, closed after its tests. */
export function suiteDatabase(): Database {
  const db = testDatabase();
  afterAll(() => db.close());
  return db;
}

/** Topic names no other test uses (not created). */
export function uniqueTopicNames(): TopicNames {
  const suffix = uniqueName('t');
  return Object.fromEntries(Object.entries(DEFAULT_TOPICS).map(([role, name]) => [role, `${name}.${suffix}`])) as TopicNames;
}

/** Fresh topics for one test, so tests never see each other's records; `config` sets topic configs per role. */
export async function createTestTopics(kafka: KafkaPort, partitions = 3, config: Partial<Record<TopicRole, Record<string, string>>> = {}): Promise<TopicNames> {
  const topics = uniqueTopicNames();
  const admin = await kafka.admin();
  await admin.ensureTopics((Object.entries(topics) as Array<[TopicRole, string]>).map(([role, topic]) => ({ topic, partitions, replicationFactor: 1, config: { ...TOPIC_CONFIG[role], ...config[role] } })));
  await admin.disconnect();
  return topics;
}

/** Environment variables that point a service at these topics. */
export function topicEnv(topics: TopicNames): Record<string, string> {
  return Object.fromEntries((Object.keys(topics) as TopicRole[]).map((role) => [TOPIC_ENV[role], topics[role]]));
}

/** Reads a topic from its start (read_committed) into memory, until stopped, as a downstream consumer would: progress markers are skipped (not events). */
export async function collectTopic(kafka: KafkaPort, topic: string): Promise<{ records: InboundRecord[]; stop(): Promise<void> }> {
  const records: InboundRecord[] = [];
  const consumer = await kafka.batchConsumer({ groupId: uniqueName('collector'), topics: [topic], partitionConcurrency: 3, readCommitted: true, fromBeginning: true });
  await consumer.run(async (batch) => { records.push(...batch.records.filter((r) => !isProgressMarkerRecord(r))); });
  return { records, stop: () => consumer.stop() };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
