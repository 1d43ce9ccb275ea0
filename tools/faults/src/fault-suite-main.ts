/**
 * `npm run test:faults [-- --profile ci|full]`: the fault-injection suite (issue 5).
 *
 * Starts its own Kafka broker and Postgres (127.0.0.1, ports 29092/29093 and 25433, fresh data under
 * `.streamguard/faults/`) and the four services, sends sequenced events through ingest while it crashes
 * and restarts every service, the broker and Postgres, scales a consumer out and in, and plants poison
 * records. Then it closes the input (barrier events, ingest stopped), waits until every stage has processed
 * everything (exact offsets, with deadlines), reads every topic back with read_committed, and checks it
 * against the request log and the oracle. One summary line; exit code 0 = no violation, 1 = violations,
 * 2 = the run itself failed (infrastructure, deadline, Ctrl-C).
 */
import { randomBytes } from 'node:crypto';
import { createKafkaClient, Database, DEFAULT_TOPICS, JsonLogger, KafkaPort, markerAddress, partitionForKey, readMarker, REPARTITION_HEADERS } from '@streamguard/common';
import { DEFAULT_RULES } from '@streamguard/stream-core';
import { AlertRow, check, CheckReport, PoisonRecord, WindowRow } from './checker';
import { FaultContext } from './fault-injectors';
import { FAULT_TENANT, FaultStack } from './fault-stack';
import { PROFILES, Profile, ProfileName } from './fault-suite.config';
import type { UpdateWindowSpec, WindowSpec } from './reference';
import { logSize, TopicReader } from './topic-reader';
import { sleep, TrafficGenerator } from './traffic-generator';

const PARTITIONS = 3;
/** The default definitions (DEFAULT_WINDOW_DEFINITIONS of the aggregate service), as the reference reads them. */
const WINDOW: WindowSpec = { name: 'account-1m', sizeMs: 60_000, maxOutOfOrdernessMs: 2_000 };
const MERCHANT_WINDOW: UpdateWindowSpec = { name: 'merchant-1h', groupBy: 'merchantId', sizeMs: 3_600_000, maxOutOfOrdernessMs: 2_000, allowedLatenessMs: 60_000 };
const quiet = new JsonLogger('error', { service: 'fault-suite' });

/**
 * Event time of the first event: 6 h behind ingest time (a backfill), 10 minutes before an hour ends, so that
 * even the CI profile's traffic (event time runs 7.5× faster than wall time) closes a merchant-1h window early on.
 */
function backfillStart(now: number): number {
  return Math.floor((now - 6 * 3_600_000) / 3_600_000) * 3_600_000 + 50 * 60_000;
}
const runStarted = Date.now();

function progress(message: string): void {
  process.stdout.write(`[faults +${((Date.now() - runStarted) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
}

function parseProfile(argv: string[]): Profile {
  const i = argv.indexOf('--profile');
  const name = (i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--profile='))?.split('=')[1]) ?? 'full';
  if (!(name in PROFILES)) throw new Error(`--profile must be one of ${Object.keys(PROFILES).join(', ')}, got ${JSON.stringify(name)}`);
  return PROFILES[name as ProfileName];
}

async function waitFor(what: string, checkFn: () => Promise<boolean>, timeoutMs: number, describe?: () => Promise<string>): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await checkFn().catch(() => false)) return true;
    if (Date.now() > deadline) {
      progress(`WARNING: ${what}: not within ${Math.round(timeoutMs / 1000)} s${describe ? ` (${await describe().catch((e) => (e as Error).message)})` : ''}; checking what is there`);
      return false;
    }
    await sleep(250);
  }
}

/** One account per partition (murmur2 like the services' producers), for barrier events. */
function barrierAccounts(runId: string): string[] {
  return Array.from({ length: PARTITIONS }, (_, p) => {
    let i = 0;
    while (partitionForKey(`${runId}-barrier-${p}-${i}`, PARTITIONS) !== p) i++;
    return `${runId}-barrier-${p}-${i}`;
  });
}

async function run(profile: Profile, stack: FaultStack): Promise<{ report: CheckReport; faults: number; crashes: number; sent: ReturnType<TrafficGenerator['log']['tally']> }> {
  const runId = `f-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  progress(`profile ${profile.name}, run ${runId}: starting Kafka (127.0.0.1:${stack.options.kafkaPort}) and Postgres (127.0.0.1:${stack.options.postgresPort})`);
  await stack.startInfrastructure();
  await Promise.all((['ingest', 'enrich', 'aggregate', 'alert'] as const).map((s, i) => stack.start(s, s, 28080 + i)));
  progress('services ready: ingest :28080, enrich :28081, aggregate :28082, alert :28083');

  const traffic = new TrafficGenerator({
    runId, ingestUrl: stack.url('ingest'), apiKey: stack.ingestApiKey, accounts: profile.accounts, startTime: backfillStart(Date.now()),
    eventTimeStepMs: 50, batchSize: profile.batchSize, eventsPerSecond: profile.eventsPerSecond, largeEvery: 199, invalidEvery: 37,
    requestTimeoutMs: 8_000, retryDeadlineMs: 60_000,
  });
  const poison: PoisonRecord[] = [];
  const ctx: FaultContext = { stack, runId, partitions: PARTITIONS, poison, progress };
  traffic.start();
  progress(`traffic: ${profile.eventsPerSecond} events/s in batches of ${profile.batchSize}, ${profile.accounts} accounts`);
  let faults = 0;
  let crashesReported = 0;
  const reportCrashes = async (during: string) => {
    for (const crash of stack.crashes.slice(crashesReported)) progress(`CRASH ${crash.instance} exited on its own (${crash.exit}) during ${during}: ${crash.cause}`);
    crashesReported = stack.crashes.length;
    await stack.waitAllReady(120_000); // restarts crashed instances, as an orchestrator would
  };
  for (const fault of profile.faults) {
    await sleep(profile.gapMs);
    await reportCrashes('traffic');
    const started = Date.now();
    const detail = await fault.run(ctx).catch((error: Error) => `FAILED: ${error.message}`);
    faults += 1;
    const t = traffic.log.tally();
    progress(`fault ${faults}/${profile.faults.length} ${fault.name}: ${detail} (${((Date.now() - started) / 1000).toFixed(1)} s) — so far ${t.sent} sent, ${t.acknowledged} acknowledged, ${t.unknown} unknown, ${t.retries} retries`);
    await reportCrashes(fault.name);
  }
  await sleep(profile.gapMs);
  await reportCrashes('traffic');
  await traffic.stop();

  // Close the input: one barrier per partition with an event time past every window, then stop ingest so
  // nothing more can enter `events.raw` (not even a late write of an earlier unknown request).
  const barrierTime = traffic.maxEventTime() + 5 * 60_000;
  const barriers = barrierAccounts(runId).map((accountId, p) => ({ eventId: `${runId}-barrier-${p}`, occurredAt: barrierTime, accountId, amount: 1, currency: 'USD', merchantId: 'mer-1' }));
  if ((await traffic.send(barriers)) !== 'acknowledged') throw new Error('the barrier events were not acknowledged');
  await stack.remove('ingest');
  const sent = traffic.log.tally();
  progress(`traffic stopped: ${sent.sent} events in ${sent.requests} requests (${sent.retries} retries); ingest stopped; draining`);

  const kafka: KafkaPort = createKafkaClient({ brokers: [stack.brokers], clientId: 'fault-suite-reader', logger: quiet });
  const admin = await kafka.admin();
  const db = new Database(stack.databaseUrl, 2, quiet, 'fault-suite');
  const roles = ['raw', 'enriched', 'repartition', 'dlq', 'late', 'aggregates', 'alerts'] as const;
  const readers = Object.fromEntries(await Promise.all(roles.map(async (role) =>
    [role, await new TopicReader(kafka, DEFAULT_TOPICS[role], `faults-reader-${runId}-${role}`).start()] as const))) as Record<(typeof roles)[number], TopicReader>;
  try {
    // One budget for the whole drain: once a stage is stuck, later waits only get what is left (min 5 s).
    const drainDeadline = Date.now() + profile.drainTimeoutMs;
    const remaining = () => Math.max(5_000, drainDeadline - Date.now());
    await waitFor('enrich has consumed events.raw (lag 0)', async () => (await admin.consumerLag(stack.groupId('enrich'), DEFAULT_TOPICS.raw)).every((l) => l.lag === 0), remaining(),
      async () => JSON.stringify(await admin.consumerLag(stack.groupId('enrich'), DEFAULT_TOPICS.raw)));
    const rawSize = await logSize(admin, DEFAULT_TOPICS.raw);
    await waitFor('events.raw read back', async () => readers.raw.seen >= rawSize, remaining(), async () => `${readers.raw.seen}/${rawSize}`);

    // enriched is transactional (markers take offsets): complete once every raw record has its enriched copy
    // or its DLQ record — per partition the last of them is in enrich's last committed transaction.
    const enrichedComplete = async () => {
      const want = new Map<string, number>();
      for (const r of readers.raw.records) if (!r.headers['x-fault-poison-id']) want.set(`${r.partition}|${eventIdOf(r.value)}`, (want.get(`${r.partition}|${eventIdOf(r.value)}`) ?? 0) + 1);
      for (const r of readers.enriched.records) {
        const key = `${r.partition}|${eventIdOf(r.value)}`;
        if (want.has(key)) want.set(key, want.get(key)! - 1);
      }
      return [...want.values()].every((n) => n <= 0);
    };
    await waitFor('events.enriched read back', enrichedComplete, remaining());
    const lastEnriched = new Map<number, bigint>();
    for (const r of readers.enriched.records) lastEnriched.set(r.partition, BigInt(r.offset) > (lastEnriched.get(r.partition) ?? -1n) ? BigInt(r.offset) : lastEnriched.get(r.partition)!);
    for (const service of ['aggregate', 'alert'] as const) {
      await waitFor(`${service} has processed events.enriched (offsets in Postgres)`, async () => {
        const { rows } = await db.query<{ partition: number; next_offset: string }>('SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2', [stack.groupId(service), DEFAULT_TOPICS.enriched]);
        const done = new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
        return [...lastEnriched].every(([p, last]) => (done.get(p) ?? -1n) > last);
      }, remaining());
    }
    // The repartitioned definition: every enriched record shuffled (its events.repartition record read back),
    // and the repartitioned stage past the last of them.
    const repartitioned = `${stack.groupId('aggregate')}-repartitioned`;
    await waitFor('events.repartition read back', async () => {
      const shuffled = new Set(readers.repartition.records.map((r) => `${r.headers[REPARTITION_HEADERS.sourcePartition]}:${r.headers[REPARTITION_HEADERS.sourceOffset]}`));
      return readers.enriched.records.every((r) => r.headers['x-fault-poison-id'] !== undefined || shuffled.has(`${r.partition}:${r.offset}`));
    }, remaining());
    const lastShuffled = new Map<number, bigint>();
    for (const r of readers.repartition.records) lastShuffled.set(r.partition, BigInt(r.offset) > (lastShuffled.get(r.partition) ?? -1n) ? BigInt(r.offset) : lastShuffled.get(r.partition)!);
    await waitFor('the repartitioned stage has processed events.repartition (offsets in Postgres)', async () => {
      const { rows } = await db.query<{ partition: number; next_offset: string }>('SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2', [repartitioned, DEFAULT_TOPICS.repartition]);
      const done = new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
      return [...lastShuffled].every(([p, last]) => (done.get(p) ?? -1n) > last);
    }, remaining());
    // Published = the outbox is empty, or (transactional outbox) every partition's "published through seq"
    // marker in Kafka has reached the last seq the stage assigned in Postgres.
    await waitFor('outbox published', async () => {
      if (Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM outbox')).rows[0].n) === 0) return true;
      const { rows } = await db.query<{ group_id: string; topic: string; partition: number; outbox_seq: string }>(
        'SELECT group_id, topic, partition, outbox_seq FROM consumer_offsets WHERE group_id = ANY($1::text[])',
        [[stack.groupId('aggregate'), stack.groupId('alert'), repartitioned]]);
      for (const r of rows) {
        const marker = await readMarker(admin, await markerAddress(admin, DEFAULT_TOPICS.outboxMarkers, r.group_id, r.topic, r.partition));
        if ((marker ?? 0) < Number(r.outbox_seq)) return false;
      }
      return true;
    }, remaining());
    // Topics written by the outbox relay: exact sizes while the relay is not transactional; otherwise (markers)
    // wait until the reader has been quiet for 3 s.
    for (const role of ['aggregates', 'alerts', 'late'] as const) {
      const size = await logSize(admin, DEFAULT_TOPICS[role]);
      await waitFor(`${role} read back`, async () => readers[role].records.length >= size || readers[role].quietForMs() > 3_000, remaining(), async () => `${readers[role].records.length}/${size}`);
    }
    const expectedDlq = poison.filter((p) => p.topic === DEFAULT_TOPICS.raw).length + 2 * poison.filter((p) => p.topic === DEFAULT_TOPICS.enriched).length;
    await waitFor('poison in events.dlq', async () => readers.dlq.records.length >= expectedDlq && readers.dlq.quietForMs() > 2_000, remaining(), async () => `${readers.dlq.records.length}/${expectedDlq}`);

    const windowRows = (await db.query<{ definition: string; group_value: string; start: string; event_count: string; sum: number; max: number | null; accounts: number | null; version: number; is_final: boolean }>(
      `SELECT definition, COALESCE(group_fields->>'accountId', group_fields->>'merchantId') AS group_value, (extract(epoch FROM window_start) * 1000)::bigint AS start,
              event_count, (agg_values->>'sumUsd')::float8 AS sum, (agg_values->>'maxUsd')::float8 AS max, (agg_values->>'accounts')::int AS accounts, version, is_final
         FROM window_results`)).rows
      .map((r): WindowRow => ({
        definition: r.definition, accountId: r.group_value, windowStart: Number(r.start), count: Number(r.event_count), sumUsd: r.sum, version: r.version, final: r.is_final,
        ...(r.definition === WINDOW.name ? { maxUsd: r.max } : { accounts: r.accounts }),
      }));
    const alertRows = (await db.query<{ alert_id: string; rule_id: string; rule_version: number; rule_type: string; severity: string; account_id: string; group_key: string; event_ids: string[]; occurred_at: Date }>(
      'SELECT alert_id, rule_id, rule_version, rule_type, severity, account_id, group_key, event_ids, occurred_at FROM alerts')).rows
      .map((r): AlertRow => ({
        alertId: r.alert_id, ruleId: r.rule_id, ruleVersion: r.rule_version, ruleType: r.rule_type, severity: r.severity, accountId: r.account_id,
        groupKey: r.group_key, eventIds: r.event_ids, occurredAt: r.occurred_at.getTime(),
      }));
    const usdRates = new Map((await db.query<{ currency: string; usd_rate: number }>('SELECT currency, usd_rate FROM fx_rates')).rows.map((r) => [r.currency.trim(), r.usd_rate]));
    progress(`read back: raw ${readers.raw.records.length}, enriched ${readers.enriched.records.length}, dlq ${readers.dlq.records.length}, late ${readers.late.records.length}, `
      + `aggregates ${readers.aggregates.records.length}, alerts ${readers.alerts.records.length}; Postgres: ${windowRows.length} windows, ${alertRows.length} alerts`);

    const report = check({
      attempts: traffic.log.events(), sent: traffic.log.sent, tenantId: FAULT_TENANT, usdRates,
      // The rules as data (what the seed stores and the alert service runs); the reference evaluates them itself.
      topics: { ...DEFAULT_TOPICS }, window: WINDOW, merchantWindow: MERCHANT_WINDOW, repartition: readers.repartition.records, rules: DEFAULT_RULES, poison,
      groups: { enrich: stack.groupId('enrich'), aggregate: stack.groupId('aggregate'), alert: stack.groupId('alert') },
      raw: readers.raw.records, enriched: readers.enriched.records, dlq: readers.dlq.records, late: readers.late.records,
      aggregates: readers.aggregates.records, alerts: readers.alerts.records, windowRows, alertRows,
    });
    if (stack.crashes.length > 0) {
      report.failures.push({ check: 'services crashed on their own (exited without being killed)', count: stack.crashes.length,
        examples: stack.crashes.slice(0, 5).map((c) => `${c.instance} (${c.exit}): ${c.cause}`) });
    }
    return { report, faults, sent, crashes: stack.crashes.length };
  } finally {
    await Promise.allSettled(Object.values(readers).map((r) => r.stop()));
    await admin.disconnect().catch(() => undefined);
    await db.close().catch(() => undefined);
  }
}

function eventIdOf(value: string | null): string {
  try {
    return String((JSON.parse(value ?? '') as { eventId?: unknown }).eventId);
  } catch {
    return '';
  }
}

async function main(): Promise<number> {
  const profile = parseProfile(process.argv.slice(2));
  const stack = new FaultStack({
    kafkaPort: 29092, postgresPort: 25433, partitions: PARTITIONS, groupPrefix: 'faults', proxied: ['enrich', 'aggregate'],
    // The production window definitions (account-1m, and merchant-1h through the shuffle) and watermark rules,
    // idle rule included: the traffic runs 6 h behind ingest time and never pauses for the idle timeout, so a
    // correct idle rule never closes a window early, outages or not; windows close by event time (the barriers).
    // Shorter waits than the defaults only where the suite's own pace needs them: a 503 after 3 s (the client
    // retries at once), a 10 s shutdown grace (every restart waits for it).
    env: { INGEST_PRODUCE_TIMEOUT_MS: '3000', SHUTDOWN_GRACE_MS: '10000' },
  });
  let tornDown: Promise<void> | undefined;
  const teardown = () => (tornDown ??= stack.teardown().then(() => progress('infrastructure stopped')));
  let aborted: ((reason: Error) => void) | undefined;
  const abort = new Promise<never>((_, reject) => { aborted = reject; });
  const deadline = setTimeout(() => aborted?.(new Error(`hard deadline of ${profile.hardDeadlineMs / 60_000} min reached`)), profile.hardDeadlineMs);
  const onSignal = (signal: string) => aborted?.(new Error(`${signal} received`));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { report, faults, crashes, sent } = await Promise.race([run(profile, stack), abort]);
    for (const line of report.accounting) progress(`accounting: ${line}`);
    for (const finding of report.failures) progress(`VIOLATION ${finding.check}: ${finding.count} (e.g. ${finding.examples.join('; ')})`);
    const verdict = report.failures.length === 0 ? 'PASS' : 'FAIL';
    await teardown();
    // lost/duplicated: acknowledged events missing or repeated (raw vs request log, enriched vs raw);
    // unknown-dup: extra copies of events whose request had an unknown outcome and was retried (allowed).
    process.stdout.write(`FAULTS ${verdict} profile=${profile.name} sent=${sent.sent} acknowledged=${sent.acknowledged} rejected=${sent.rejected} unknown=${sent.unknown} `
      + `lost=${report.lost} duplicated=${report.duplicated} unknown-dup=${report.unknownDuplicates} dlq=${report.dlq} late=${report.late} `
      + `windows=${report.windows.actual}/${report.windows.expected} alerts=${report.alerts.actual}/${report.alerts.expected} `
      + `topic-dup=alerts:${report.topicDuplicates.alerts},aggregates:${report.topicDuplicates.aggregates},late:${report.topicDuplicates.late},dlq:${report.topicDuplicates.dlq} `
      + `faults=${faults} crashes=${crashes} violations=${report.failures.length} duration=${Math.round((Date.now() - runStarted) / 1000)}s\n`);
    return verdict === 'PASS' ? 0 : 1;
  } catch (error) {
    progress(`run failed: ${(error as Error).stack ?? error}`);
    for (const instance of stack.instanceNames()) for (const line of stack.tail(instance, 5)) progress(`  [${instance}] ${line.slice(0, 300)}`);
    await teardown();
    process.stdout.write(`FAULTS ERROR profile=${profile.name} ${(error as Error).message} duration=${Math.round((Date.now() - runStarted) / 1000)}s\n`);
    return 2;
  } finally {
    clearTimeout(deadline);
  }
}

main().then((code) => process.exit(code), (error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(2);
});
