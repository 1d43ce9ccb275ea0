/**
 * End to end: the four services as separate processes over the real broker and Postgres. Events go in over
 * HTTP; the expected alerts come out of `GET /v1/alerts` and the `alerts` topic, the expected window out of
 * `GET /v1/aggregates`; rejected requests leave nothing in Kafka.
 */
import { randomBytes } from 'node:crypto';
import { type AlertMessage, DLQ_HEADERS, DLQ_MAX_VALUE_BYTES, type InboundRecord, type KafkaPort, type TopicNames } from '@streamguard/common';
import { enrichedMessage } from './support/enriched-events';
import { ServiceStack } from './support/service-stack';
import { collectTopic, createTestTopics, testKafka, uniqueName } from './support/test-infra';
import { waitFor } from './support/wait-for';

describe('pipeline end to end', () => {
  let kafka: KafkaPort;
  let topics: TopicNames;
  let stack: ServiceStack;

  beforeAll(async () => {
    kafka = testKafka();
    // events.enriched takes records up to 4 MiB, as a user may configure it; every other topic keeps the broker's
    // default of 1 MiB (so a DLQ copy of a bigger record would not fit).
    topics = await createTestTopics(kafka, 3, { enriched: { 'max.message.bytes': String(4 * 1024 * 1024) } });
    // Windows close 2 s after the stream goes quiet, so the test does not wait for a minute of event time.
    stack = await new ServiceStack({ topics, env: { WATERMARK_IDLE_TIMEOUT_MS: '2000', AGGREGATE_TICK_MS: '200', ALERT_TICK_MS: '200' } }).start();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  async function post(body: string, contentType = 'application/json'): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(`${stack.url('ingest')}/v1/events`, { method: 'POST', headers: { 'content-type': contentType, ...stack.auth }, body });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  /** An `events.enriched` value of the stack's tenant (20,000 USD: a large-amount alert), with `fields` overriding. */
  function enrichedFor(account: string, id: string, fields: Record<string, unknown> = {}): string {
    const value = JSON.parse(enrichedMessage({ eventId: `${account}-${id}`, accountId: account, occurredAt: Date.now(), amountUsd: 20_000 }, stack.tenant));
    return JSON.stringify({ ...value, ...fields });
  }

  /** The stages that read events.enriched into Postgres, each of which dead-letters a poison record once. */
  const postgresStages = () => [stack.groupId('aggregate'), stack.groupId('alert')].sort();

  /** DLQ records of one stage for records of `account` in events.enriched. */
  const dlqRecordsOf = (dlq: { records: InboundRecord[] }, group: string, account: string) => dlq.records
    .filter((r) => r.headers[DLQ_HEADERS.originTopic] === topics.enriched && r.headers[DLQ_HEADERS.consumerGroup] === group && r.key === account);

  it('raises the threshold and velocity alerts and computes the window, exactly once each', async () => {
    const account = uniqueName('acc');
    const bigSpender = uniqueName('acc');
    const minute = Math.floor((Date.now() - 10 * 60_000) / 60_000) * 60_000; // a closed minute, 10 min ago
    const velocityEvents = Array.from({ length: 7 }, (_, i) => ({
      eventId: `${account}-e${i}`, occurredAt: minute + 1_000 + i * 5_000, accountId: account, amount: 10 + i, currency: 'EUR', merchantId: 'mer-1',
    }));
    const ndjson = velocityEvents.map((e) => JSON.stringify(e)).join('\n');
    const outputs = await collectTopic(kafka, topics.alerts);
    try {
      expect(await post(ndjson, 'application/x-ndjson')).toEqual({ status: 202, json: { accepted: 7 } });
      expect(await post(JSON.stringify({
        eventId: `${bigSpender}-big`, occurredAt: new Date(minute + 30_000).toISOString(), accountId: bigSpender, amount: 20_000, currency: 'EUR', merchantId: 'mer-2',
      }))).toEqual({ status: 202, json: { accepted: 1 } });

      // velocity-1m: more than 5 events within 60 s → fires on the 6th event (e5), then cooldown 60 s
      // suppresses e6. large-amount: 20 000 EUR = 21 600 USD > 10 000.
      const alerts = await waitFor('both alerts in GET /v1/alerts', async () => {
        const [a, b] = await Promise.all([account, bigSpender].map(async (acc) => {
          const response = await fetch(`${stack.url('alert')}/v1/alerts?accountId=${acc}`, { headers: stack.auth });
          return ((await response.json()) as { alerts: AlertMessage[] }).alerts;
        }));
        return a.length >= 1 && b.length >= 1 ? [...a, ...b] : undefined;
      }, 60_000);
      expect(alerts.map((a) => [a.ruleId, a.accountId, a.eventIds.at(-1)]).sort()).toEqual([
        ['large-amount', bigSpender, `${bigSpender}-big`],
        ['velocity-1m', account, `${account}-e5`],
      ].sort());
      const velocity = alerts.find((a) => a.ruleId === 'velocity-1m')!;
      expect(velocity.eventIds).toEqual(velocityEvents.slice(0, 6).map((e) => e.eventId));
      expect(velocity.explanation.observed).toMatchObject({ count: 6 });
      const large = alerts.find((a) => a.ruleId === 'large-amount')!;
      expect(large).toMatchObject({ severity: 'high', ruleVersion: 1, occurredAt: minute + 30_000 });
      expect(large.explanation.observed).toMatchObject({ value: 21_600 });

      // The same alerts, once each, on the alerts topic.
      await waitFor('two alerts on the topic', () => outputs.records.length >= 2 || undefined, 30_000);
      const onTopic = outputs.records.map((r) => JSON.parse(r.value!.toString()) as AlertMessage);
      expect(onTopic.map((a) => a.alertId).sort()).toEqual(alerts.map((a) => a.alertId).sort());

      // The account's 1-minute tumbling window: 7 events, sum of amountUsd (EUR × 1.08, rounded to cents).
      const expectedSum = velocityEvents.reduce((s, e) => s + Math.round(e.amount * 1.08 * 100) / 100, 0);
      const windows = await waitFor('the final account-1m window', async () => {
        const response = await fetch(`${stack.url('aggregate')}/v1/aggregates?accountId=${account}&definition=account-1m`, { headers: stack.auth });
        const body = (await response.json()) as { aggregates: Array<Record<string, unknown>> };
        return body.aggregates.length > 0 ? body.aggregates : undefined;
      }, 60_000);
      expect(windows).toHaveLength(1);
      expect(windows[0]).toMatchObject({ windowStart: minute, windowEnd: minute + 60_000, count: 7, final: true, version: 1 });
      expect((windows[0].values as Record<string, number>).sumUsd).toBeCloseTo(expectedSum, 6);

      // By now every event has passed every stage: still exactly the two alerts, in Postgres and on the topic.
      const final = await (await fetch(`${stack.url('alert')}/v1/alerts?accountId=${account}`, { headers: stack.auth })).json() as { alerts: AlertMessage[] };
      expect(final.alerts.map((a) => a.alertId)).toEqual([velocity.alertId]);
      expect(outputs.records).toHaveLength(2);
    } finally {
      await outputs.stop();
    }
  }, 120_000);

  it('rejects bad requests precisely and produces nothing for them', async () => {
    const raw = await collectTopic(kafka, topics.raw);
    try {
      const id = uniqueName('bad');
      const invalid = await post(JSON.stringify([
        { eventId: `${id}-ok`, occurredAt: Date.now(), accountId: 'acc-1', amount: 5, currency: 'EUR', merchantId: 'mer-1' },
        { eventId: `${id}-bad`, occurredAt: 'yesterday', accountId: 'acc-1', amount: -5, currency: 'EUR', merchantId: 'mer-1', tenant: 'x' },
      ]));
      expect(invalid.status).toBe(422);
      expect((invalid.json.error as { details: unknown[] }).details).toEqual([
        { index: 1, field: 'tenant', reason: expect.stringContaining('taken from your API key') },
        { index: 1, field: 'occurredAt', reason: expect.stringContaining('RFC 3339') },
        { index: 1, field: 'amount', reason: expect.stringContaining('> 0') },
      ]);
      expect((await post('{"eventId": ')).status).toBe(400);
      expect((await post('x', 'text/plain')).status).toBe(415);
      expect((await post(`[${'"x",'.repeat(400_000)}"x"]`)).status).toBe(413);

      // A marker event accepted after the rejected ones: once it is in events.raw, anything the rejected
      // requests had produced would be there too.
      expect((await post(JSON.stringify({ eventId: `${id}-marker`, occurredAt: Date.now(), accountId: 'acc-1', amount: 1, currency: 'EUR', merchantId: 'mer-1' }))).status).toBe(202);
      await waitFor('the marker event in events.raw', () => raw.records.some((r) => r.value!.toString().includes(`${id}-marker`)) || undefined, 30_000);
      expect(raw.records.filter((r) => r.value!.toString().includes(id)).map((r) => JSON.parse(r.value!.toString()).eventId)).toEqual([`${id}-marker`]);
      // The accepted event carries the tenant of the API key that sent it.
      expect(JSON.parse(raw.records.find((r) => r.value!.toString().includes(`${id}-marker`))!.value!.toString())).toMatchObject({ tenantId: stack.tenant });
    } finally {
      await raw.stop();
    }
  }, 60_000);

  it('dead-letters records Postgres could not store (U+0000, unpaired surrogates, times and ids out of range) and keeps their partition flowing', async () => {
    // Written straight to events.enriched, as a producer other than enrich could. Valid JSON, but jsonb and text
    // columns refuse U+0000 and unpaired surrogates, timestamptz a time before 4713 BC or after 294276 AD, and a
    // btree index an entry over about 2.7 kB: stored as state, a result or an alert they would fail every
    // commit of the batch, and the partition would retry it forever.
    const account = uniqueName('acc');
    const message = (id: string, fields?: Record<string, unknown>) => enrichedFor(account, id, fields);
    const poison = [
      message('nul-account', { accountId: `${account}\u0000x` }),
      message('lone-surrogate-merchant', { merchantId: 'mer-\ud800' }),
      message('nul-in-nested-text', { account: { homeCountry: 'DE', note: 'a\u0000b' } }),
      message('lone-surrogate-event-id', { eventId: `${account}-\udc00` }),
    ];
    // Times timestamptz cannot hold; an id longer than a Postgres index entry can be.
    const outOfRange = [message('ancient', { occurredAt: -1e16 }), message('far-future', { occurredAt: 1e16 }), message('long-account', { accountId: `${account}${randomBytes(3000).toString('base64')}` })];
    const dlq = await collectTopic(kafka, topics.dlq);
    const producer = await kafka.producer();
    try {
      // One key, so one partition: the good record comes after every poison record.
      await producer.send([...poison, ...outOfRange, message('good')].map((value) => ({ topic: topics.enriched, key: account, value })));
      const alerts = await waitFor('the large-amount alert of the record after the poison ones', async () => {
        const response = await fetch(`${stack.url('alert')}/v1/alerts?accountId=${account}`, { headers: stack.auth });
        const body = (await response.json()) as { alerts: AlertMessage[] };
        return body.alerts.length > 0 ? body.alerts : undefined;
      }, 30_000, 100);
      expect(alerts.map((a) => [a.ruleId, a.eventIds])).toEqual([['large-amount', [`${account}-good`]]]);
      // Each poison record is dead-lettered once by each stage that reads events.enriched into Postgres.
      const groups = postgresStages();
      const expected = [...poison.map((value) => ['UNSTORABLE_TEXT', value]), ...outOfRange.map((value) => ['INVALID_ENRICHED_EVENT', value])];
      await waitFor('every poison record in the DLQ from both stages', () => groups.every((g) => dlqRecordsOf(dlq, g, account).length === expected.length) || undefined, 30_000, 100);
      for (const group of groups) {
        expect(dlqRecordsOf(dlq, group, account).map((r) => [r.headers[DLQ_HEADERS.errorCode], r.value!.toString()])).toEqual(expected);
      }
    } finally {
      await producer.disconnect();
      await dlq.stop();
    }
  }, 60_000);

  it('dead-letters records too large to pass on, with their value cut to DLQ_MAX_VALUE_BYTES, and keeps publishing', async () => {
    const account = uniqueName('acc');
    const message = (id: string, fields?: Record<string, unknown>) => enrichedFor(account, id, fields);
    // 2 MiB of reference data: valid, but the stages' outputs (late reports, DLQ copies) would exceed the
    // 1 MiB limit of their topics, and a publication that can never succeed would hold back every later output.
    const huge = message('huge', { account: { note: 'x'.repeat(2 * 1024 * 1024) } });
    const hugeAndPoison = message('huge-poison', { account: { note: `\u0000${'y'.repeat(2 * 1024 * 1024)}` } });
    const dlq = await collectTopic(kafka, topics.dlq);
    const alertsTopic = await collectTopic(kafka, topics.alerts);
    const producer = await kafka.producer();
    try {
      await producer.send([huge, hugeAndPoison, message('good')].map((value) => ({ topic: topics.enriched, key: account, value })));
      // The alert of the record after them reaches the alerts topic: the outbox publication was not held back.
      await waitFor('the good record\'s alert on the alerts topic', () =>
        alertsTopic.records.some((r) => (JSON.parse(r.value!.toString()) as AlertMessage).eventIds.includes(`${account}-good`)) || undefined, 30_000, 100);
      expect(alertsTopic.records.filter((r) => r.key === account).map((r) => (JSON.parse(r.value!.toString()) as AlertMessage).eventIds)).toEqual([[`${account}-good`]]);
      const groups = postgresStages();
      await waitFor('both oversized records in the DLQ from both stages', () => groups.every((g) => dlqRecordsOf(dlq, g, account).length === 2) || undefined, 30_000, 100);
      for (const group of groups) {
        expect(dlqRecordsOf(dlq, group, account).map((r) => ({
          code: r.headers[DLQ_HEADERS.errorCode], truncatedFrom: r.headers[DLQ_HEADERS.valueTruncatedFrom], bytes: r.value!.length, offset: r.headers[DLQ_HEADERS.originOffset],
        }))).toEqual([huge, hugeAndPoison].map((value) => ({
          code: 'RECORD_TOO_LARGE', truncatedFrom: String(Buffer.byteLength(value)), bytes: DLQ_MAX_VALUE_BYTES, offset: expect.any(String),
        })));
        // The DLQ copy is the original's first bytes.
        expect(dlqRecordsOf(dlq, group, account)[0].value!.toString()).toBe(huge.slice(0, DLQ_MAX_VALUE_BYTES));
      }
    } finally {
      await producer.disconnect();
      await Promise.all([dlq.stop(), alertsTopic.stop()]);
    }
  }, 60_000);

  it('exposes health, readiness and metrics on every service', async () => {
    for (const name of ['ingest', 'enrich', 'aggregate', 'alert']) {
      const base = stack.url(name);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect(await (await fetch(`${base}/readyz`)).json()).toMatchObject({ status: 'ready' });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain(`process_resident_memory_bytes{service="${name}"}`);
    }
    const alertMetrics = await (await fetch(`${stack.url('alert')}/metrics`)).text();
    expect(alertMetrics).toMatch(/alerts_total\{[^}]*rule="large-amount"/);
  }, 30_000);
});
