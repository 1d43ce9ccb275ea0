/**
 * The dashboards and alert rules against the real thing: the four services as processes over the real
 * broker and Postgres, scraped by a real Prometheus the way the chart's ServiceMonitor configures it.
 * Traffic makes every series exist (accepted and rejected requests, a Kafka outage seen by ingest, both
 * built-in alert kinds, final windows, a future-timestamped record, poison records, Postgres lock timeouts
 * that make every stage retry), then: every metric name the dashboards and rules read is exposed; every PromQL
 * expression parses, evaluates and returns data; the rules load and evaluate healthy in Prometheus; every
 * dashboard SQL query runs against Postgres.
 */
import { join } from 'node:path';
import type { Database, KafkaPort, TopicNames } from '@streamguard/common';
import { ServiceName } from '../tools/local-infra/src/service-process';
import {
  comparisonsAsBool, dashboardSql, expandGrafanaSql, exposedMetricNames, isRuleQuery, K8S_DIR, PromQuery, promQueries, referencedMetricNames,
} from './support/observability-queries';
import { PrometheusServer } from './support/prometheus-server';
import { AuthHeaders, bearer, createApiKey, ServiceStack, uniqueTenant } from './support/service-stack';
import { createTestTopics, freePort, testDatabase, testInfra, testKafka, uniqueName } from './support/test-infra';
import { waitFor } from './support/wait-for';

/** The namespace label the ServiceMonitor's targets carry; the dashboards' $namespace filter selects it. */
const NAMESPACE = 'streamguard-e2e';
const SERVICES: ServiceName[] = ['ingest', 'enrich', 'aggregate', 'alert'];
/** An extra ingest whose broker is unreachable: the one way to a real `unavailable` (503) rejection. */
const KAFKA_DOWN_INGEST = 'ingest-kafka-down';
/**
 * Metrics a dashboard legitimately reads that the services declare but never record (reported, not fixed
 * here: service code). Expressions reading them must still parse and return series, and must be NaN-only;
 * once a service records the metric this test fails until the entry is removed.
 */
const KNOWN_GAPS: Record<string, string> = {};

describe('observability end to end (dashboards and alert rules on a real Prometheus)', () => {
  let kafka: KafkaPort;
  let db: Database;
  let topics: TopicNames;
  let stack: ServiceStack;
  let prometheus: PrometheusServer;
  const run = uniqueName('obs');
  const account = (name: string): string => `${run}-${name}`;

  async function metricsText(instance: string): Promise<string> {
    return (await fetch(`${stack.url(instance)}/metrics`)).text();
  }

  async function post(url: string, body: unknown[] | string, contentType = 'application/x-ndjson'): Promise<number> {
    const text = typeof body === 'string' ? body : body.map((e) => JSON.stringify(e)).join('\n');
    const response = await fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': contentType, ...stack.auth }, body: text });
    await response.arrayBuffer();
    return response.status;
  }

  const event = (acc: string, id: string, occurredAt: number, amount: number, merchantId = 'mer-1'): Record<string, unknown> => ({
    eventId: `${acc}-${id}`, occurredAt, accountId: acc, amount, currency: 'EUR', merchantId,
  });

  async function alertedAccounts(accounts: string[]): Promise<Set<string>> {
    const { rows } = await db.query<{ account_id: string }>('SELECT account_id FROM alerts WHERE account_id = ANY($1::text[])', [accounts]);
    return new Set(rows.map((r) => r.account_id));
  }

  /**
   * A transient Postgres fault: holds ACCESS EXCLUSIVE locks on `tables` while `events` go in, so the
   * stages' statements on them fail with lock_not_available (the stack connects with a short lock_timeout)
   * until each of `services` has counted a batch retry; then releases. Not a cut connection: that is racy
   * here, and currently crashes aggregate/alert (a pg client checked out by Database.transaction has no
   * 'error' listener, so a connection lost between two statements is an unhandled 'error' event).
   */
  async function lockOutage(tables: string[], services: ServiceName[], events: Record<string, unknown>[]): Promise<void> {
    await db.transaction(async (tx) => {
      await tx.query(`LOCK TABLE ${tables.join(', ')} IN ACCESS EXCLUSIVE MODE`);
      expect(await post(stack.url('ingest'), events)).toBe(202);
      await waitFor(`batch retries counted by ${services.join(', ')} while Postgres tables are locked`, async () => {
        const exited = services.filter((s) => stack.get(s).exited());
        if (exited.length > 0) throw new Error(`${exited.join(', ')} exited`);
        const texts = await Promise.all(services.map((s) => metricsText(s)));
        return texts.every((text, i) => text.includes(`${services[i]}_batch_retries_total{`)) || undefined;
      }, 30_000, 100);
    });
  }

  beforeAll(async () => {
    const { databaseUrl } = testInfra();
    kafka = testKafka();
    db = testDatabase();
    topics = await createTestTopics(kafka, 3);
    // Windows close 2 s after the stream goes quiet; small ticks so nothing waits on a timer. A statement
    // waiting for a lock fails after 1 s (see lockOutage).
    const url = new URL(databaseUrl);
    url.searchParams.set('options', '-c lock_timeout=1000');
    stack = await new ServiceStack({
      topics, env: { WATERMARK_IDLE_TIMEOUT_MS: '2000', AGGREGATE_TICK_MS: '200', ALERT_TICK_MS: '200', DATABASE_URL: url.toString() },
    }).start();
    const closedPort = await freePort();
    await stack.add('ingest', KAFKA_DOWN_INGEST, { KAFKA_BROKERS: `127.0.0.1:${closedPort}`, INGEST_PRODUCE_TIMEOUT_MS: '100', LOG_LEVEL: 'error' });
    await waitFor(`${KAFKA_DOWN_INGEST} /healthz`, async () => (await fetch(`${stack.url(KAFKA_DOWN_INGEST)}/healthz`)).ok, 30_000, 100);

    // The target labels the chart's ServiceMonitor produces (prometheus-operator: namespace, service, pod,
    // endpoint, job; instance = address) with honorLabels: true, so the services' own `service` label
    // (ingest, enrich, …) wins over the Kubernetes Service name, as the dashboards and rules expect.
    prometheus = await new PrometheusServer({
      honorLabels: true,
      ruleFiles: [join(K8S_DIR, 'prometheus', 'streamguard-rules.yaml')],
      targets: [...stack.processes.values()].map((p) => ({
        address: new URL(p.url).host,
        labels: { namespace: NAMESPACE, service: `streamguard-${p.name}`, job: `streamguard-${p.name}`, pod: `streamguard-${p.name}-0`, endpoint: 'http' },
      })),
    }).start();

    try {
      await firstRound();
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- service logs ---\n${stack.tail(150)}`);
    }
    // Counters and histograms with labels appear at their first increment, already counting it, so a rate or
    // quantile over them needs a scrape before the next increment: wait until Prometheus holds every series
    // the dashboards and rules read, then send a second round that moves them (latency quantiles over a range
    // with no observations are NaN, which a dashboard shows as no data). If a name never appears, the tests
    // below say which.
    const names = referencedMetricNames();
    await waitFor('Prometheus to hold every referenced metric', async () => {
      const result = await prometheus.query(`count by (__name__) ({__name__=~"${names.join('|')}", namespace="${NAMESPACE}"})`);
      return result.data?.result.length === names.length || undefined;
    }, 30_000, 250).catch(() => undefined);
    await secondRound();
  }, 240_000);

  /** Traffic that creates every series, including the Postgres faults (batch retries). */
  async function firstRound(): Promise<void> {
    const minute = Math.floor((Date.now() - 10 * 60_000) / 60_000) * 60_000; // a closed minute, 10 min ago
    const velocity = account('velocity');
    const big = account('big');
    // velocity-1m (6th event within 60 s) and large-amount (20 000 EUR); an unknown merchant (enrich flag).
    expect(await post(stack.url('ingest'), [
      ...Array.from({ length: 7 }, (_, i) => event(velocity, `e${i}`, minute + 1_000 + i * 5_000, 10 + i)),
      event(big, 'big', minute + 30_000, 20_000),
      event(account('unknown-merchant'), 'e0', minute + 40_000, 5, uniqueName('mer')),
    ])).toBe(202);
    // The velocity account's window is final once its partition is idle for 2 s. Checked before any other traffic,
    // so that only these events decide it. (This test was flaky under load when a restored partition that had no
    // record yet armed the idle rule: its watermark reached the present before these ten-minute-old events did.)
    await waitFor('the final account-1m window', async () => {
      const body = (await (await fetch(`${stack.url('aggregate')}/v1/aggregates?accountId=${velocity}&definition=account-1m`, { headers: stack.auth })).json()) as {
        aggregates: Array<{ final: boolean }>;
      };
      return body.aggregates.some((a) => a.final) || undefined;
    }, 30_000, 200);
    await sendFaultyTraffic('1');
    await waitFor('the velocity and large-amount alerts', async () => (await alertedAccounts([velocity, big])).size === 2 || undefined, 60_000, 200);
    // Postgres faults: first for aggregate and alert (their offsets table; enrich keeps feeding them), then
    // for enrich (reference data of a new account). Each stage rolls back, counts a retry and, once the lock
    // is gone, processes the batch: the large-amount alerts of those events prove it.
    await lockOutage(['consumer_offsets'], ['aggregate', 'alert'], [event(account('outage-1'), 'e0', minute + 45_000, 20_000)]);
    await lockOutage(['accounts', 'blocklist'], ['enrich'], [event(account('outage-2'), 'e0', minute + 50_000, 20_000)]);
    await waitFor('the alerts of the events sent during the outages', async () =>
      (await alertedAccounts([account('outage-1'), account('outage-2')])).size === 2 || undefined, 60_000, 200);
  }

  /** Moves the series once more (through every stage), after Prometheus has scraped them. */
  async function secondRound(): Promise<void> {
    const big = account('big-2');
    expect(await post(stack.url('ingest'), [event(big, 'big', Date.now(), 20_000)])).toBe(202);
    await sendFaultyTraffic('2');
    await waitFor('the second round\'s large-amount alert', async () => (await alertedAccounts([big])).size === 1 || undefined, 60_000, 200);
  }

  /** A future-timestamped event, rejected requests of every kind, poison records. */
  async function sendFaultyTraffic(round: string): Promise<void> {
    const ingest = stack.url('ingest');
    // Event time an hour ahead: aggregate sends it to events.late as FUTURE_TS (MAX_FUTURE_SKEW_MS 5 min).
    expect(await post(ingest, [event(account(`future-${round}`), 'e0', Date.now() + 3_600_000, 5)])).toBe(202);
    // Rejections: unparseable 400, unsupported media type 415, invalid 422; Kafka unreachable 503.
    expect(await post(ingest, '{"eventId": ', 'application/json')).toBe(400);
    expect(await post(ingest, 'x', 'text/plain')).toBe(415);
    expect(await post(ingest, [{ ...event(account(`bad-${round}`), 'e0', Date.now(), -5), tenant: 'x' }])).toBe(422);
    expect(await post(stack.url(KAFKA_DOWN_INGEST), [event(account(`down-${round}`), 'e0', Date.now(), 5)])).toBe(503);
    // Poison records: not JSON. In events.raw enrich dead-letters it; in events.enriched aggregate and alert do.
    const producer = await kafka.producer();
    await producer.send([
      { topic: topics.raw, key: account(`poison-${round}`), value: 'not json' },
      { topic: topics.enriched, key: account(`poison-${round}`), value: 'not json' },
    ]);
    await producer.disconnect();
    await sendRefusedApiCalls();
  }

  /** On every service: a call without a key (auth rejection) and two quick calls of a 1/s key (429). */
  async function sendRefusedApiCalls(): Promise<void> {
    throttledKey ??= bearer(await createApiKey(uniqueTenant('throttled'), ['ingest', 'read', 'admin'], { ratePerSecond: 1, burst: 1 }));
    const routes: Array<[string, string, string]> = [
      ['ingest', 'POST', '/v1/events'], ['enrich', 'GET', '/v1/keys'], ['aggregate', 'GET', '/v1/aggregates'], ['alert', 'GET', '/v1/alerts'],
    ];
    for (const [service, method, path] of routes) {
      const body = method === 'POST' ? JSON.stringify(event(account('throttled'), uniqueName('e'), Date.now(), 5)) : undefined;
      const call = (headers: Record<string, string>) => fetch(`${stack.url(service)}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body }).then((r) => r.status);
      expect(await call({})).toBe(401);
      const statuses = [await call(throttledKey), await call(throttledKey)];
      expect(statuses).toContain(429);
    }
  }
  let throttledKey: AuthHeaders | undefined;

  afterAll(async () => {
    await prometheus?.stop();
    await stack?.stop();
    await db?.close();
  }, 60_000);

  it('exposes every metric the dashboards and rules read', async () => {
    const wanted = referencedMetricNames();
    expect(wanted.length).toBeGreaterThan(0);
    // The consumer-lag gauges appear on the services' first lag poll (every 10 s): wait for them, not for time.
    let missing = wanted;
    await waitFor('every referenced metric in the services\' /metrics', async () => {
      const exposed = new Set<string>();
      for (const text of await Promise.all(SERVICES.map((s) => metricsText(s)))) for (const name of exposedMetricNames(text)) exposed.add(name);
      missing = wanted.filter((name) => !exposed.has(name));
      return missing.length === 0;
    }, 30_000, 250).catch(() => undefined);
    expect(missing).toEqual([]);
  }, 60_000);

  it('scrapes the four services with the ServiceMonitor\'s labels', async () => {
    await waitFor('every target scraped healthy', async () => {
      const targets = await prometheus.targets();
      return targets.length === stack.processes.size && targets.every((t) => t.health === 'up') || undefined;
    }, 15_000, 200);
    const result = await prometheus.query(`count by (service, namespace) (process_start_time_seconds{namespace="${NAMESPACE}"})`);
    expect(result.data!.result.map((r) => [r.metric.service, r.metric.namespace, r.value![1]]).sort()).toEqual([
      ['aggregate', NAMESPACE, '1'], ['alert', NAMESPACE, '1'], ['enrich', NAMESPACE, '1'], ['ingest', NAMESPACE, '2'],
    ]);
  }, 30_000);

  it('evaluates every dashboard and rule expression to data', async () => {
    const queries = promQueries({ namespace: NAMESPACE });
    expect(queries.filter((q) => !isRuleQuery(q)).length).toBeGreaterThan(0);
    expect(queries.filter(isRuleQuery).length).toBeGreaterThan(0);
    const gapOf = (expr: string): string | undefined => Object.keys(KNOWN_GAPS).find((name) => new RegExp(`\\b${name}\\b`).test(expr));
    type Outcome = { failure?: string; nanOnly: boolean };
    const evaluate = async (q: PromQuery): Promise<Outcome> => {
      // Rules are conditions, empty while healthy: evaluated with `bool` comparisons (see comparisonsAsBool).
      const expr = isRuleQuery(q) ? comparisonsAsBool(q.expr) : q.expr;
      const result = await prometheus.query(expr);
      const where = `${q.source} ${q.ref}`;
      if (result.status !== 'success') return { failure: `${where}: ${result.errorType}: ${result.error}\n    ${expr}`, nanOnly: false };
      if (result.data!.result.length === 0) return { failure: `${where}: no data\n    ${expr}`, nanOnly: false };
      // A quantile over a range without observations is NaN: Grafana draws nothing.
      if (result.data!.result.every((r) => r.value?.[1] === 'NaN')) return { failure: `${where}: only NaN (no observations in range)\n    ${expr}`, nanOnly: true };
      return { nanOnly: false };
    };
    const check = async (): Promise<string[]> => {
      const failures: string[] = [];
      for (const q of queries) {
        const outcome = await evaluate(q);
        const gap = gapOf(q.expr);
        if (!gap && outcome.failure) failures.push(outcome.failure);
        if (gap && !outcome.nanOnly) failures.push(`${q.source} ${q.ref}: expected the known gap of ${gap} (${KNOWN_GAPS[gap]}) — ${outcome.failure ?? 'it returns data now: remove it from KNOWN_GAPS'}`);
      }
      return failures;
    };
    // rate() needs two samples inside its range: poll (1 s scrapes) until every expression has data.
    let failures: string[] = [];
    await waitFor('every expression to return data', async () => {
      failures = await check();
      return failures.length === 0;
    }, 20_000, 500).catch(() => undefined);
    expect(failures.length === 0 ? 'all expressions returned data' : `${failures.length} of ${queries.length} expressions failed:\n${failures.join('\n')}`)
      .toBe('all expressions returned data');
  }, 60_000);

  it('loads the alert rules into Prometheus, and they evaluate without error', async () => {
    const rules = await waitFor('every rule evaluated once', async () => {
      const loaded = await prometheus.rules();
      return loaded.length > 0 && loaded.every((r) => r.health !== 'unknown') ? loaded : undefined;
    }, 15_000, 200);
    expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
  }, 30_000);

  it('runs every dashboard SQL query against Postgres', async () => {
    const queries = dashboardSql();
    expect(queries.map((q) => q.ref).sort()).toEqual(['streamguard-fraud: Recent alerts [A]', 'streamguard-fraud: Top accounts by alerts [A]']);
    const failures: string[] = [];
    for (const q of queries) {
      const sql = expandGrafanaSql(q.rawSql);
      try {
        const { rows } = await db.query<Record<string, unknown>>(sql);
        // Both tables list alerts detected in the last hour: this test's own alerts guarantee rows.
        if (rows.length === 0) failures.push(`${q.source} ${q.ref}: no rows\n${sql}`);
        if (q.ref.includes('Recent alerts') && !rows.some((r) => r.account_id === account('big'))) {
          failures.push(`${q.source} ${q.ref}: this test's alert (${account('big')}) missing\n${sql}`);
        }
      } catch (error) {
        failures.push(`${q.source} ${q.ref}: ${(error as Error).message}\n${sql}`);
      }
    }
    expect(failures).toEqual([]);
  }, 30_000);
});
