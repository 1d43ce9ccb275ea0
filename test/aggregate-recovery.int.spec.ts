/**
 * Window state survives `kill -9` and partition reassignment: the aggregate service runs as real processes
 * on the real broker and Postgres; mid-stream it is SIGKILLed and restarted, then it scales 1→3→1 instances.
 * The final Postgres rows must equal a brute-force oracle exactly (every window, count and sum), as an
 * uninterrupted run would produce, and the aggregates topic must carry each final window exactly once.
 */
import type { AggregateResultMessage, Database, KafkaPort, RecordProducer, TopicNames } from '@streamguard/common';
import { ServiceStack } from './support/service-stack';
import { collectTopic, createTestTopics, testDatabase, testKafka, uniqueName } from './support/test-infra';
import { committedRecords, enrichedMessage, enrichedSender, tumblingWindowTotals, withRedeliveries } from './support/enriched-events';
import { prng } from './support/prng';
import { waitFor } from './support/wait-for';

const PARTITIONS = 3;
const WINDOW_MS = 10_000;
const ACCOUNTS = 40;
const EVENTS = 3_000;
const CHUNKS = 6;

interface TestEvent { eventId: string; accountId: string; occurredAt: number; amountUsd: number }


function generateEvents(run: string, start: number): TestEvent[] {
  const random = prng(42);
  const events: TestEvent[] = [];
  for (let i = 0; i < EVENTS; i++) {
    // Time advances ~50 ms per event; each event is up to 1.5 s out of order (the bound is 2 s).
    const occurredAt = start + i * 50 - Math.floor(random() * 1_500);
    events.push({ eventId: `${run}-${i}`, accountId: `${run}-acc-${Math.floor(random() * ACCOUNTS)}`, occurredAt, amountUsd: Math.round(random() * 100_00) / 100 });
  }
  return events;
}

const toMessage = (e: TestEvent): string => enrichedMessage(e);

describe('aggregate: exactly-once window results across kill -9 and rebalances', () => {
  let kafka: KafkaPort;
  let db: Database;
  let topics: TopicNames;
  let producer: RecordProducer;
  let stack: ServiceStack;
  const definition = uniqueName('acct-10s');

  beforeAll(async () => {
    kafka = testKafka();
    db = testDatabase();
    topics = await createTestTopics(kafka, PARTITIONS);
    producer = await kafka.producer();
    stack = new ServiceStack({
      topics, services: ['aggregate'],
      env: {
        WINDOW_DEFINITIONS: JSON.stringify([{
          name: definition, groupBy: ['accountId'], window: { type: 'tumbling', sizeMs: WINDOW_MS },
          aggregations: [{ name: 'count', fn: 'count' }, { name: 'sumUsd', fn: 'sum', field: 'amountUsd' }], allowedLatenessMs: 0, emit: 'final',
        }]),
        WATERMARK_MAX_OUT_OF_ORDERNESS_MS: '2000', WATERMARK_IDLE_TIMEOUT_MS: '0', MAX_FUTURE_SKEW_MS: String(10 * 86_400_000),
        AGGREGATE_PARTITION_CONCURRENCY: '3',
      },
    });
    await stack.start();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await producer?.disconnect();
    await db?.close();
  }, 60_000);

  const committed = () => committedRecords(db, stack.groupId('aggregate'), topics.enriched);

  it('produces exactly the oracle\'s windows in Postgres', async () => {
    const run = uniqueName('r');
    const start = Math.floor((Date.now() - 86_400_000) / WINDOW_MS) * WINDOW_MS;
    const events = generateEvents(run, start);
    // Redeliveries: 5% of events are sent twice (same eventId, same key → same partition).
    const stream = withRedeliveries(events, prng(7));
    const chunk = Math.ceil(stream.length / CHUNKS);
    const sender = enrichedSender(producer, topics.enriched, stream, toMessage);
    const send = (n: number) => sender.send(n);
    const output = await collectTopic(kafka, topics.aggregates);
    const restoreLines = () => stack.logs.filter((l) => l.includes('partition state restored'));
    try {
      await send(chunk);
      await waitFor('first records committed', async () => (await committed()) > 0 || undefined, 30_000);
      // Crash: SIGKILL mid-stream, then restart; the new process restores window state from Postgres.
      await stack.get('aggregate').kill();
      await send(chunk);
      const restarted = await stack.add('aggregate', 'aggregate-restarted');
      await waitFor('restarted aggregate ready', async () => (await fetch(`${restarted.url}/readyz`)).ok || undefined, 60_000);
      await send(chunk);
      // Scale out to three instances (one per partition) while traffic flows, then back to one.
      const added = [await stack.add('aggregate', 'aggregate-2'), await stack.add('aggregate', 'aggregate-3')];
      for (const instance of added) {
        await waitFor(`${instance.name} ready`, async () => (await fetch(`${instance.url}/readyz`)).ok || undefined, 60_000);
      }
      await send(chunk);
      await waitFor('all three instances restored a partition', () => {
        const owners = new Set(restoreLines().map((l) => l.slice(1, l.indexOf(']'))));
        return (owners.has('aggregate-2') && owners.has('aggregate-3')) || undefined;
      }, 60_000);
      for (const instance of added) await instance.stop();
      await send(chunk);
      await send(stream.length - sender.sent);
      // One late-enough record per partition moves every watermark past the last window.
      const last = Math.max(...events.map((e) => e.occurredAt));
      await producer.send(Array.from({ length: PARTITIONS }, (_, partition) => ({
        topic: topics.enriched, key: `${run}-flush-${partition}`, partition,
        value: toMessage({ eventId: `${run}-flush-${partition}`, accountId: `${run}-flush`, occurredAt: last + 60_000, amountUsd: 1 }),
      })));

      const expected = tumblingWindowTotals(events, (e) => e.accountId, WINDOW_MS);
      const rows = await waitFor(`${expected.size} final windows in Postgres`, async () => {
        // Records without a tenant (written as before tenancy) belong to the tenant 'default'.
        const { rows } = await db.query<{ account: string; start: string; event_count: string; sum: number; version: number; is_final: boolean }>(
          `SELECT group_fields->>'accountId' AS account, (extract(epoch FROM window_start) * 1000)::bigint AS start, event_count, (agg_values->>'sumUsd')::float8 AS sum, version, is_final
           FROM window_results WHERE definition = $1 AND tenant_id = 'default' AND group_key NOT LIKE '%-flush'`, [definition]);
        return rows.length >= expected.size ? rows : undefined;
      }, 90_000, 250);

      const actual = new Map(rows.map((r) => [`${r.account}@${r.start}`, { count: Number(r.event_count), sum: r.sum }]));
      expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [key, w] of expected) {
        expect({ key, count: actual.get(key)!.count }).toEqual({ key, count: w.count });
        expect(actual.get(key)!.sum).toBeCloseTo(w.sum, 6);
      }
      expect(rows.every((r) => r.is_final && r.version === 1)).toBe(true);

      // The topic (read_committed) carries each final window exactly once: the outbox is published in
      // Kafka transactions with a "published through" marker, so a crash neither loses nor repeats one.
      const published = new Map<string, AggregateResultMessage>();
      const repeated: string[] = [];
      await waitFor('every window on the aggregates topic', () => {
        published.clear();
        repeated.length = 0;
        for (const r of output.records) {
          const m = JSON.parse(r.value!.toString()) as AggregateResultMessage;
          if (m.groupKey.endsWith('-flush')) continue;
          const key = `${String(m.group.accountId)}@${m.windowStart}`;
          if (published.has(key)) repeated.push(key);
          published.set(key, m);
        }
        return published.size >= expected.size || undefined;
      }, 60_000);
      expect(repeated).toEqual([]);
      expect([...published.keys()].sort()).toEqual([...expected.keys()].sort());

      const restores = restoreLines();
      expect(restores.length).toBeGreaterThan(PARTITIONS); // restarted and rebalanced partitions were restored
      process.stdout.write(`aggregate recovery: ${events.length} events (+${stream.length - events.length} redelivered), ${expected.size} windows, `
        + `${output.records.length} topic records, ${restores.length} partition restores: ${restores.map((l) => /"durationMs":(\d+)/.exec(l)?.[1]).join(', ')} ms\n`);
    } finally {
      await output.stop();
    }
  }, 240_000);
});
