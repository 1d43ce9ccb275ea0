/**
 * Kafka security against a real broker configured with SASL/SCRAM on loopback: the client authenticates
 * with SCRAM-SHA-256 and -512, a wrong password is refused, and a service configured only through the
 * KAFKA_SASL_* variables becomes ready and accepts events.
 */
import { join } from 'node:path';
import { createKafkaClient, KafkaPort } from '@streamguard/common';
import { RunningKafka, startKafkaBroker } from '../tools/local-infra/src/kafka-broker';
import { streamguardHome } from '../tools/local-infra/src/paths';
import { startService, ServiceProcess, waitUntilReady } from '../tools/local-infra/src/service-process';
import { bearer, createApiKey, uniqueTenant } from './support/service-stack';
import { collectTopic, freePort, quietLogger, testInfra, uniqueName } from './support/test-infra';
import { waitFor } from './support/wait-for';

describe('Kafka with SASL/SCRAM', () => {
  let broker: RunningKafka;
  const users = [
    { mechanism: 'SCRAM-SHA-256' as const, username: 'alice', password: 'alice-secret-256' },
    { mechanism: 'SCRAM-SHA-512' as const, username: 'bob', password: 'bob-secret-512' },
  ];

  beforeAll(async () => {
    const port = await freePort();
    const controllerPort = await freePort();
    broker = await startKafkaBroker({ home: join(streamguardHome(), 'test-sasl'), port, controllerPort, fresh: true, heapMb: 512, scramUsers: users });
  }, 120_000);

  afterAll(async () => {
    await broker?.stop();
  }, 60_000);

  function client(mechanism: 'scram-sha-256' | 'scram-sha-512', username: string, password: string): KafkaPort {
    return createKafkaClient({ brokers: [broker.brokers], clientId: uniqueName('sasl'), logger: quietLogger, security: { sasl: { mechanism, username, password } } });
  }

  it('produces and consumes with SCRAM-SHA-256 and SCRAM-SHA-512', async () => {
    const topic = uniqueName('secure');
    const alice = client('scram-sha-256', 'alice', 'alice-secret-256');
    const admin = await alice.admin();
    await admin.ensureTopics([{ topic, partitions: 1, replicationFactor: 1 }]);
    await admin.disconnect();
    const producer = await alice.producer();
    await producer.send([{ topic, key: 'k', value: 'hello' }]);
    await producer.disconnect();
    const reader = await collectTopic(client('scram-sha-512', 'bob', 'bob-secret-512'), topic);
    try {
      await waitFor('the record read back as bob', () => reader.records.length === 1 || undefined, 30_000);
      expect(reader.records[0].value!.toString()).toBe('hello');
    } finally {
      await reader.stop();
    }
  }, 60_000);

  it('refuses a wrong password', async () => {
    await expect(client('scram-sha-256', 'alice', 'wrong-password').producer()).rejects.toThrow(/SASL|authentication/i);
  }, 60_000);

  it('runs a service configured only through KAFKA_SASL_* variables', async () => {
    const topic = uniqueName('raw');
    const alice = client('scram-sha-256', 'alice', 'alice-secret-256');
    const admin = await alice.admin();
    await admin.ensureTopics([{ topic, partitions: 1, replicationFactor: 1 }]);
    await admin.disconnect();
    const logs: string[] = [];
    let ingest: ServiceProcess | undefined;
    try {
      ingest = startService('ingest', await freePort(), {
        KAFKA_BROKERS: broker.brokers, KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: 'alice-secret-256',
        TOPIC_EVENTS_RAW: topic, DATABASE_URL: testInfra().databaseUrl,
      }, (line) => logs.push(line), 'ingest-sasl');
      await waitUntilReady(ingest, 60_000);
      const response = await fetch(`${ingest.url}/v1/events`, {
        method: 'POST', headers: { 'content-type': 'application/json', ...bearer(await createApiKey(uniqueTenant(), ['ingest'])) },
        body: JSON.stringify({ eventId: uniqueName('e'), occurredAt: Date.now(), accountId: 'acc-1', amount: 5, currency: 'EUR', merchantId: 'mer-1' }),
      });
      expect([response.status, await response.text()]).toEqual([202, '{"accepted":1}']);
      expect(logs.join('\n')).not.toContain('alice-secret-256'); // the password is never logged
    } finally {
      await ingest?.stop();
    }
  }, 90_000);
});
