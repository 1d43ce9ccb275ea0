/**
 * The transactional outbox carries keys and values byte for byte from the Postgres transaction to Kafka:
 * JSON text, arbitrary binary (dead-lettered raw records), strings with NUL, null keys, headers. Its
 * "published through" marker lives in the compacted marker topic: a new owner publishes exactly the rows
 * after it, and a marker left in the old `<group>.outbox` consumer group is honoured on upgrade.
 * Real broker and Postgres from the test setup.
 */
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { Counter, KafkaPort, OutboundRecord, TOPIC_CONFIG, TransactionalOutbox } from '@streamguard/common';
import { describeGroupsWithBrokerTool } from './support/broker-tools';
import { collectTopic, quietLogger, suiteDatabase, testInfra, testKafka, uniqueName } from './support/test-infra';
import { waitFor } from './support/wait-for';

const noopCounter: Counter = { inc: () => undefined };

/** A marker topic of this test's own, configured as provisioning creates the real one (compacted). */
async function markerTopic(kafka: KafkaPort): Promise<string> {
  const topic = uniqueName('outbox-markers');
  const admin = await kafka.admin();
  await admin.ensureTopics([{ topic, partitions: 3, replicationFactor: 1, config: TOPIC_CONFIG.outboxMarkers }]);
  await admin.disconnect();
  return topic;
}

describe('TransactionalOutbox', () => {
  const kafka = testKafka();
  const db = suiteDatabase();

  it('publishes text, binary, NUL-bearing, invalid-Unicode and null keys and values exactly as enqueued', async () => {
    const topic = uniqueName('outbox-bytes');
    const input = uniqueName('outbox-input'); // the marker is an offset of the input partition: it must exist
    const admin = await kafka.admin();
    await admin.ensureTopics([{ topic, partitions: 1, replicationFactor: 1 }, { topic: input, partitions: 1, replicationFactor: 1 }]);
    await admin.disconnect();
    const groupId = uniqueName('outbox-test');
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0x22, 0x5c, 0x7b]); // NUL, invalid UTF-8, newline, quote, backslash, {
    const records: OutboundRecord[] = [
      { topic, key: 'acme|acc-1', value: JSON.stringify({ text: 'é ✓ "quoted" \\ back', n: 1 }), headers: { h: 'v' } },
      { topic, key: null, value: binary },
      { topic, key: 'nul\u0000key', value: 'nul\u0000value' },
      { topic, key: 'empty', value: Buffer.alloc(0) },
      // Not valid Unicode: sent as Kafka would send the string (U+FFFD's UTF-8 bytes), whatever the outbox's path.
      { topic, key: 'lone\ud800surrogate', value: 'lone \udc00 surrogate', headers: { h: 'x' } },
      { topic, key: '😀', value: JSON.stringify({ emoji: '😀', escaped: '\\u0000 is text here' }) },
    ];
    const outbox = new TransactionalOutbox(db, kafka, groupId, await markerTopic(kafka), quietLogger, noopCounter, 'events.dlq', noopCounter);
    await db.query('INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, 0, -1)', [groupId, input]);
    await db.transaction((tx) => outbox.enqueue(tx, input, 0, 0, records));
    const collected = await collectTopic(kafka, topic);
    try {
      expect(await outbox.publish(input, 0)).toBe(records.length);
      await waitFor('all records on the topic', () => collected.records.length >= records.length, 20_000);
      const got = collected.records.map((r) => ({ key: r.key, value: r.value?.toString('latin1'), h: r.headers.h }));
      expect(got).toEqual(records.map((r) => ({
        key: r.key === null ? null : Buffer.from(r.key, 'utf8').toString('utf8'), value: (Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value, 'utf8')).toString('latin1'), h: r.headers?.h,
      })));
    } finally {
      await collected.stop();
      await outbox.close();
    }
  });
  it('a new owner publishes exactly the rows after the marker in the marker topic, and no <group>.outbox group is created', async () => {
    const { topic, input, groupId, markers } = await outboxTopics(kafka);
    const rows = (from: number, n: number): OutboundRecord[] => Array.from({ length: n }, (_, i) => ({ topic, key: `k${from + i}`, value: `v${from + i}` }));
    await db.query('INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, 0, -1)', [groupId, input]);
    const collected = await collectTopic(kafka, topic);
    const first = new TransactionalOutbox(db, kafka, groupId, markers, quietLogger, noopCounter, 'events.dlq', noopCounter);
    const second = new TransactionalOutbox(db, kafka, groupId, markers, quietLogger, noopCounter, 'events.dlq', noopCounter);
    try {
      await db.transaction((tx) => first.enqueue(tx, input, 0, 0, rows(1, 5)));
      expect(await first.publish(input, 0)).toBe(5);
      await first.close();
      // The partition moves: the next owner fences the first, reads the marker (seq 5) and publishes only what follows.
      await db.transaction((tx) => second.enqueue(tx, input, 0, 5, rows(6, 3)));
      expect(await second.publish(input, 0)).toBe(3);
      expect(await second.publish(input, 0)).toBe(0);
      await waitFor('8 records on the topic', () => collected.records.length >= 8, 20_000);
    } finally {
      await collected.stop();
      await second.close();
    }
    expect(collected.records.map((r) => r.key)).toEqual(['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8']);
    expect(collected.records.map((r) => r.headers['x-outbox-seq'])).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
    expect((await describeGroupsWithBrokerTool()).some((row) => row.group === `${groupId}.outbox`)).toBe(false);
  }, 60_000);

  it('honours a marker left in the <group>.outbox consumer group by the previous version (upgrade)', async () => {
    const { topic, input, groupId, markers } = await outboxTopics(kafka);
    await db.query('INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, 0, -1)', [groupId, input]);
    const outbox = new TransactionalOutbox(db, kafka, groupId, markers, quietLogger, noopCounter, 'events.dlq', noopCounter);
    await db.transaction((tx) => outbox.enqueue(tx, input, 0, 0, Array.from({ length: 6 }, (_, i) => ({ topic, key: `k${i + 1}`, value: 'v' }))));
    // The previous version published rows 1–4 and committed "offset 5" for the input partition in group `<group>.outbox`.
    const raw = new KafkaJS.Kafka({ kafkaJS: { brokers: testInfra().brokers.split(','), clientId: uniqueName('legacy'), logLevel: KafkaJS.logLevel.NOTHING } });
    const legacyGroup = raw.consumer({ kafkaJS: { groupId: `${groupId}.outbox` } });
    await legacyGroup.connect();
    const legacyProducer = raw.producer({ kafkaJS: { transactionalId: uniqueName('legacy-tx'), idempotent: true, maxInFlightRequests: 1, acks: -1 } });
    await legacyProducer.connect();
    const transaction = await legacyProducer.transaction();
    await transaction.sendOffsets({ consumer: legacyGroup, topics: [{ topic: input, partitions: [{ partition: 0, offset: '5' }] }] });
    await transaction.commit();
    await Promise.all([legacyProducer.disconnect(), legacyGroup.disconnect()]);
    const collected = await collectTopic(kafka, topic);
    try {
      expect(await outbox.publish(input, 0)).toBe(2);
      await waitFor('2 records on the topic', () => collected.records.length >= 2, 20_000);
    } finally {
      await collected.stop();
      await outbox.close();
    }
    expect(collected.records.map((r) => r.key)).toEqual(['k5', 'k6']);
  }, 60_000);

  it('replaces an output Kafka refuses for good (too large for its topic) by a dead-letter stub in its transaction, and publishes the rest in order', async () => {
    const [topic, dlq, input] = [uniqueName('outbox-small'), uniqueName('outbox-dlq'), uniqueName('outbox-input')];
    const admin = await kafka.admin();
    await admin.ensureTopics([
      // A topic that takes records up to 2 KiB: a 4 KiB output can never be published there.
      { topic, partitions: 1, replicationFactor: 1, config: { 'max.message.bytes': '2048' } },
      { topic: dlq, partitions: 1, replicationFactor: 1 }, { topic: input, partitions: 1, replicationFactor: 1 },
    ]);
    await admin.disconnect();
    const groupId = uniqueName('outbox-test');
    const records: OutboundRecord[] = Array.from({ length: 9 }, (_, i) => ({ topic, key: `k${i}`, value: i === 5 ? 'x'.repeat(4096) : `small-${i}` }));
    const outbox = new TransactionalOutbox(db, kafka, groupId, await markerTopic(kafka), quietLogger, noopCounter, dlq, noopCounter);
    await db.query('INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, 0, -1)', [groupId, input]);
    await db.transaction((tx) => outbox.enqueue(tx, input, 0, 0, records));
    const [published, deadLetters] = await Promise.all([collectTopic(kafka, topic), collectTopic(kafka, dlq)]);
    try {
      expect(await outbox.publish(input, 0)).toBe(9);
      await waitFor('8 outputs and 1 stub', () => (published.records.length >= 8 && deadLetters.records.length >= 1) || undefined, 20_000);
      expect(published.records.map((r) => r.key)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k6', 'k7', 'k8']);
      expect(deadLetters.records).toHaveLength(1);
      const stub = deadLetters.records[0];
      expect(JSON.parse(stub.value!.toString())).toEqual({ unpublishable: { topic, key: 'k5', valueBytes: 4096, valueStart: 'x'.repeat(1024) } });
      expect(stub.headers).toMatchObject({ 'x-outbox-seq': '6', 'x-error-message': expect.stringContaining(`output to ${topic} refused by Kafka`) });
      // Published through the last row: nothing is held back, and publishing again sends nothing more.
      expect(await outbox.publish(input, 0)).toBe(0);
    } finally {
      await Promise.all([published.stop(), deadLetters.stop()]);
      await outbox.close();
    }
  }, 60_000);
});

async function outboxTopics(kafka: KafkaPort): Promise<{ topic: string; input: string; groupId: string; markers: string }> {
  const topic = uniqueName('outbox-out');
  const input = uniqueName('outbox-input');
  const admin = await kafka.admin();
  await admin.ensureTopics([{ topic, partitions: 1, replicationFactor: 1 }, { topic: input, partitions: 1, replicationFactor: 1 }]);
  await admin.disconnect();
  return { topic, input, groupId: uniqueName('outbox-test'), markers: await markerTopic(kafka) };
}
