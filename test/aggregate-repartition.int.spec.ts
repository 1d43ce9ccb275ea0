/**
 * Windows grouped by a field other than the input key (`merchantId`, while `events.enriched` is keyed by
 * `accountId`) are computed through a repartition topic: events of one merchant arrive on every input
 * partition, yet each (merchant, hour) must be ONE window with the exact total, stored once and published
 * once, across a kill -9 and a rebalance. Account windows keep running directly on `events.enriched`.
 * Real broker, real Postgres, the aggregate service as real processes; rows compared with a brute-force oracle.
 */
import { AggregateResultMessage, Database, DLQ_HEADERS, KafkaPort, partitionForKey, RecordProducer, TopicNames } from '@streamguard/common';
import { ServiceStack, uniqueTenant } from './support/service-stack';
import { collectTopic, createTestTopics, testDatabase, testKafka, uniqueName } from './support/test-infra';
import { committedRecords, enrichedMessage, enrichedSender, tumblingWindowTotals, withRedeliveries } from './support/enriched-events';
import { prng } from './support/prng';
import { waitFor } from './support/wait-for';

const PARTITIONS = 3;
const HOUR = 3_600_000;
const ACCOUNT_WINDOW_MS = 600_000;
const ACCOUNTS = 40;
const MERCHANTS = 12;
const EVENTS = 3_000;
const CHUNKS = 5;
/**
 * The shuffle interleaves the input partitions, which stage 1 processes at their own pace (more so around a
 * crash), so event time on a repartition partition can go back by up to the span of a produced chunk. The
 * bound covers the whole stream: windows close on the flush records at the end, and none is ever late.
 */
const OUT_OF_ORDERNESS_MS = 4 * HOUR;

interface TestEvent { eventId: string; accountId: string; merchantId: string; occurredAt: number; amountUsd: number }


describe('aggregate: windows grouped by merchant go through a repartition topic', () => {
  let kafka: KafkaPort;
  let db: Database;
  let topics: TopicNames;
  let producer: RecordProducer;
  let stack: ServiceStack;
  const tenant = uniqueTenant();
  const merchantWindow = uniqueName('merch-1h');
  const accountWindow = uniqueName('acct-10m');
  const count = [{ name: 'count', fn: 'count' }, { name: 'sumUsd', fn: 'sum', field: 'amountUsd' }];

  beforeAll(async () => {
    kafka = testKafka();
    db = testDatabase();
    topics = await createTestTopics(kafka, PARTITIONS);
    producer = await kafka.producer();
    stack = new ServiceStack({
      topics, services: ['aggregate'],
      env: {
        WINDOW_DEFINITIONS: JSON.stringify([
          { name: accountWindow, groupBy: ['accountId'], window: { type: 'tumbling', sizeMs: ACCOUNT_WINDOW_MS }, aggregations: count, emit: 'final' },
          { name: merchantWindow, groupBy: ['merchantId'], window: { type: 'tumbling', sizeMs: HOUR }, aggregations: count, emit: 'final' },
        ]),
        WATERMARK_MAX_OUT_OF_ORDERNESS_MS: String(OUT_OF_ORDERNESS_MS), WATERMARK_IDLE_TIMEOUT_MS: '0', MAX_FUTURE_SKEW_MS: String(10 * 86_400_000),
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

  const toMessage = (e: TestEvent): string => enrichedMessage(e, tenant);
  const committed = (groupId: string, topic: string) => committedRecords(db, groupId, topic);

  async function finalRows(definition: string, groupField: string) {
    const { rows } = await db.query<{ grp: string; start: string; event_count: string; sum: number; version: number; is_final: boolean }>(
      `SELECT group_fields->>'${groupField}' AS grp, (extract(epoch FROM window_start) * 1000)::bigint AS start, event_count,
              (agg_values->>'sumUsd')::float8 AS sum, version, is_final
       FROM window_results WHERE definition = $1 AND tenant_id = $2 AND group_fields->>'${groupField}' NOT LIKE '%flush%'`, [definition, tenant]);
    return rows;
  }

  it('gives one merchant window per (merchant, hour) with the exact totals, stored and published once, and account windows as before', async () => {
    const run = uniqueName('r');
    const start = Math.floor((Date.now() - 86_400_000) / HOUR) * HOUR;
    const random = prng(11);
    const events: TestEvent[] = [];
    for (let i = 0; i < EVENTS; i++) {
      // ~3 hours of events, each a few seconds out of order; every merchant buys from many accounts.
      const occurredAt = start + Math.floor(i * 3_600) - Math.floor(random() * 3_000);
      events.push({
        eventId: `${run}-${i}`, accountId: `${run}-acc-${Math.floor(random() * ACCOUNTS)}`, merchantId: `${run}-mer-${Math.floor(random() * MERCHANTS)}`,
        occurredAt, amountUsd: Math.round(random() * 100_00) / 100,
      });
    }
    // Redeliveries: 5% of events are sent twice (same eventId and account).
    const stream = withRedeliveries(events, random);
    const accountPartitions = new Map<string, Set<number>>();
    for (const e of events) {
      const partitions = accountPartitions.get(e.merchantId) ?? new Set<number>();
      partitions.add(partitionForKey(e.accountId, PARTITIONS));
      accountPartitions.set(e.merchantId, partitions);
    }
    expect([...accountPartitions.values()].every((p) => p.size === PARTITIONS)).toBe(true); // the premise: merchants span partitions

    const chunk = Math.ceil(stream.length / CHUNKS);
    const sender = enrichedSender(producer, topics.enriched, stream, toMessage);
    const send = (n: number) => sender.send(n);
    const aggregates = await collectTopic(kafka, topics.aggregates);
    const dlq = await collectTopic(kafka, topics.dlq);
    const late = await collectTopic(kafka, topics.late);
    try {
      const definitionsLine = stack.logs.find((l) => l.includes('window definitions')) ?? '';
      expect(definitionsLine).toContain(`${merchantWindow}: tumbling by tenantId+merchantId`);
      expect(definitionsLine.indexOf(accountWindow)).toBeLessThan(definitionsLine.indexOf('repartitioned'));
      expect(definitionsLine.indexOf(merchantWindow)).toBeGreaterThan(definitionsLine.indexOf('repartitioned'));

      await send(chunk);
      await waitFor('first repartitioned records windowed', async () => (await committed(`${stack.groupId('aggregate')}-repartitioned`, topics.repartition)) > 0 || undefined, 30_000);
      // Crash both stages mid-stream; the restarted process resumes stage 1 from its committed transaction
      // and stage 2 from its Postgres state.
      await stack.get('aggregate').kill();
      await send(chunk);
      const restarted = await stack.add('aggregate', 'aggregate-restarted');
      await waitFor('restarted aggregate ready', async () => (await fetch(`${restarted.url}/readyz`)).ok || undefined, 60_000);
      await send(chunk);
      // A second instance joins (every group rebalances) and leaves again while traffic flows.
      const second = await stack.add('aggregate', 'aggregate-2');
      await waitFor('second aggregate ready', async () => (await fetch(`${second.url}/readyz`)).ok || undefined, 60_000);
      await send(chunk);
      await second.stop();
      await send(stream.length - sender.sent);

      // Stage 1 has repartitioned everything before the flush: the shuffle interleaves input partitions, so a
      // flush repartitioned ahead of another partition's backlog would (rightly) make that backlog late.
      const admin = await kafka.admin();
      try {
        await waitFor('stage 1 consumed events.enriched', async () =>
          (await admin.consumerLag(`${stack.groupId('aggregate')}-repartition`, topics.enriched)).every((l) => l.lag === 0) || undefined, 60_000, 250);
      } finally {
        await admin.disconnect();
      }
      // Flush: one record per input partition and one per repartition partition moves every watermark past the last window.
      const flushAt = Math.max(...events.map((e) => e.occurredAt)) + OUT_OF_ORDERNESS_MS + HOUR;
      const flushMerchants = new Map<number, string>(); // repartition partition → a merchant whose records land there
      for (let i = 0; flushMerchants.size < PARTITIONS; i++) {
        const merchantId = `${run}-flush-mer-${i}`;
        const partition = partitionForKey(`${merchantWindow}|${tenant}|${merchantId}`, PARTITIONS);
        if (!flushMerchants.has(partition)) flushMerchants.set(partition, merchantId);
      }
      await producer.send([...flushMerchants.values()].map((merchantId, partition) => ({
        topic: topics.enriched, key: `${run}-flush-acc-${partition}`, partition,
        value: toMessage({ eventId: `${run}-flush-${partition}`, accountId: `${run}-flush-acc-${partition}`, merchantId, occurredAt: flushAt, amountUsd: 1 }),
      })));

      const expectedMerchants = tumblingWindowTotals(events, (e) => e.merchantId, HOUR);
      const expectedAccounts = tumblingWindowTotals(events, (e) => e.accountId, ACCOUNT_WINDOW_MS);
      const merchantRows = await waitFor(`${expectedMerchants.size} final merchant windows`, async () => {
        const rows = await finalRows(merchantWindow, 'merchantId');
        return rows.length >= expectedMerchants.size && rows.every((r) => r.is_final) ? rows : undefined;
      }, 90_000, 250);
      const accountRows = await waitFor(`${expectedAccounts.size} final account windows`, async () => {
        const rows = await finalRows(accountWindow, 'accountId');
        return rows.length >= expectedAccounts.size && rows.every((r) => r.is_final) ? rows : undefined;
      }, 60_000, 250);

      for (const [rows, expected] of [[merchantRows, expectedMerchants], [accountRows, expectedAccounts]] as const) {
        const actual = new Map(rows.map((r) => [`${r.grp}@${r.start}`, { count: Number(r.event_count), sum: r.sum, version: r.version }]));
        expect(rows.length).toBe(actual.size);
        expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
        for (const [key, w] of expected) {
          expect({ key, count: actual.get(key)!.count, version: actual.get(key)!.version }).toEqual({ key, count: w.count, version: 1 });
          expect(actual.get(key)!.sum).toBeCloseTo(w.sum, 6);
        }
      }

      // The aggregates topic (read_committed) carries each final merchant window exactly once, with the totals.
      const published = new Map<string, AggregateResultMessage>();
      const repeated: string[] = [];
      await waitFor('every merchant window on the aggregates topic', () => {
        published.clear();
        repeated.length = 0;
        for (const r of aggregates.records) {
          const m = JSON.parse(r.value!.toString()) as AggregateResultMessage;
          if (m.definition !== merchantWindow || String(m.group.merchantId).includes('flush')) continue;
          const key = `${String(m.group.merchantId)}@${m.windowStart}`;
          if (published.has(key)) repeated.push(key);
          published.set(key, m);
        }
        return published.size >= expectedMerchants.size || undefined;
      }, 60_000);
      expect(repeated).toEqual([]);
      expect([...published.keys()].sort()).toEqual([...expectedMerchants.keys()].sort());
      for (const [key, m] of published) {
        expect({ key, count: m.count, final: m.final }).toEqual({ key, count: expectedMerchants.get(key)!.count, final: true });
        expect(m.values.sumUsd).toBeCloseTo(expectedMerchants.get(key)!.sum, 6);
        expect(m.group).toEqual({ tenantId: tenant, merchantId: key.slice(0, key.indexOf('@')) });
      }
      expect(late.records.map((l) => l.value?.toString())).toEqual([]);
      expect(dlq.records.map((d) => `${d.headers[DLQ_HEADERS.consumerGroup]} ${d.headers[DLQ_HEADERS.errorCode]}`)).toEqual([]);
      process.stdout.write(`aggregate repartition: ${events.length} events (+${stream.length - events.length} redelivered), `
        + `${expectedMerchants.size} merchant windows, ${expectedAccounts.size} account windows, ${aggregates.records.length} topic records\n`);
    } finally {
      await aggregates.stop();
      await dlq.stop();
      await late.stop();
    }
  }, 300_000);
});
