/**
 * The transactional outbox carries keys and values byte for byte from the Postgres transaction to Kafka:
 * JSON text, arbitrary binary (dead-lettered raw records), strings with NUL, null keys, headers.
 * Real broker and Postgres from the test setup.
 */
import { Counter, Database, KafkaPort, OutboundRecord, TransactionalOutbox } from '@streamguard/common';
import { collectTopic, quietLogger, testDatabase, testKafka, uniqueName } from './support/test-infra';
import { waitFor } from './support/wait-for';

const noopCounter: Counter = { inc: () => undefined };

describe('TransactionalOutbox', () => {
  let kafka: KafkaPort;
  let db: Database;

  beforeAll(() => {
    kafka = testKafka();
    db = testDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

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
    const outbox = new TransactionalOutbox(db, kafka, groupId, quietLogger, noopCounter);
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
});
