import { DEFAULT_TOPICS, DLQ_HEADERS, REPARTITION_HEADERS } from '@streamguard/common';
import { DEFAULT_RULES } from '@streamguard/stream-core';
import { AlertRow, check, CheckInput, WindowRow } from './checker';
import { POISON_HEADER, TopicRecord } from './oracle';
import { ObservedEvent, ObservedShuffled, referenceAlerts, referenceUpdateWindows, referenceWindows, SentEvent } from './reference';
import type { EventAttempts } from './request-log';

const GROUPS = { enrich: 'g.enrich', aggregate: 'g.aggregate', alert: 'g.alert' };
const BASE = Date.UTC(2026, 0, 1);
const WINDOW = { name: 'account-1m', sizeMs: 60_000, maxOutOfOrdernessMs: 2_000 };
const TENANT = 'faults';

interface Ev { eventId: string; accountId: string; occurredAt: number; amount: number; partition: number }

const sentOf = (e: Ev): SentEvent => ({ eventId: e.eventId, occurredAt: e.occurredAt, accountId: e.accountId, amount: e.amount, currency: 'USD', merchantId: 'mer-1' });

function rawRecord(e: Ev, offset: number): TopicRecord {
  const value = { schemaVersion: 1, ...sentOf(e), tenantId: TENANT, receivedAt: 1 };
  return { topic: DEFAULT_TOPICS.raw, partition: e.partition, offset: String(offset), key: e.accountId, value: JSON.stringify(value), headers: {} };
}

function enrichedRecord(raw: TopicRecord, offset: number): TopicRecord {
  const value = { ...JSON.parse(raw.value!), amountUsd: JSON.parse(raw.value!).amount, account: null, merchant: null, blocklistHits: [], flags: [], enrichedAt: 2 };
  return { ...raw, topic: DEFAULT_TOPICS.enriched, offset: String(offset), value: JSON.stringify(value) };
}

function dlqFor(record: TopicRecord, group: string, offset: number): TopicRecord {
  return {
    topic: DEFAULT_TOPICS.dlq, partition: 0, offset: String(offset), key: record.key, value: record.value,
    headers: {
      ...record.headers, [DLQ_HEADERS.originTopic]: record.topic, [DLQ_HEADERS.originPartition]: String(record.partition), [DLQ_HEADERS.originOffset]: record.offset,
      [DLQ_HEADERS.consumerGroup]: group, [DLQ_HEADERS.errorClass]: 'PoisonRecordError', [DLQ_HEADERS.errorCode]: 'INVALID_JSON', [DLQ_HEADERS.errorMessage]: 'bad',
    },
  };
}

/** A consistent run: 4 acknowledged events, one large, a flush per partition, one poison record per topic. */
function perfectRun(): CheckInput & { attempts: Map<string, EventAttempts>; sent: Map<string, SentEvent> } {
  const events: Ev[] = [
    { eventId: 'e1', accountId: 'a', occurredAt: BASE + 1_000, amount: 10, partition: 0 },
    { eventId: 'e2', accountId: 'a', occurredAt: BASE + 2_000, amount: 20_000, partition: 0 },
    { eventId: 'e3', accountId: 'b', occurredAt: BASE + 3_000, amount: 30, partition: 1 },
    { eventId: 'e4', accountId: 'a', occurredAt: BASE + 61_000, amount: 40, partition: 0 },
    { eventId: 'flush-0', accountId: 'f0', occurredAt: BASE + 500_000, amount: 1, partition: 0 },
    { eventId: 'flush-1', accountId: 'f1', occurredAt: BASE + 500_000, amount: 1, partition: 1 },
  ];
  const attempts = new Map<string, EventAttempts>(events.map((e) => [e.eventId, { acknowledged: 1, rejected: 0, unknown: 0 }]));
  attempts.set('r1', { acknowledged: 0, rejected: 1, unknown: 0 });
  const sent = new Map(events.map((e) => [e.eventId, sentOf(e)]));
  sent.set('r1', sentOf({ eventId: 'r1', accountId: 'a', occurredAt: BASE + 1_500, amount: 1, partition: 0 }));
  const offsets = new Map<number, number>();
  const next = (p: number) => { const o = offsets.get(p) ?? 0; offsets.set(p, o + 1); return o; };
  const raw = events.map((e) => rawRecord(e, next(e.partition)));
  const rawPoison: TopicRecord = { topic: DEFAULT_TOPICS.raw, partition: 1, offset: String(next(1)), key: 'x', value: '{bad', headers: { [POISON_HEADER]: 'p1' } };
  raw.push(rawPoison);
  const eOffsets = new Map<number, number>();
  const enriched = raw.filter((r) => r !== rawPoison).map((r) => { const o = eOffsets.get(r.partition) ?? 0; eOffsets.set(r.partition, o + 2); return enrichedRecord(r, o); });
  const enrichedPoison: TopicRecord = { topic: DEFAULT_TOPICS.enriched, partition: 0, offset: '100', key: 'x', value: '{"schemaVersion":99}', headers: { [POISON_HEADER]: 'p2' } };
  enriched.push(enrichedPoison);
  // What a correct pipeline outputs, built with the reference (the checker is what is tested here).
  const observed: ObservedEvent[] = enriched.filter((r) => r !== enrichedPoison).map((r) => {
    const event = sent.get(JSON.parse(r.value!).eventId)!;
    return { partition: r.partition, offset: r.offset, event, amountUsd: event.amount };
  });
  const windows = referenceWindows(observed, WINDOW);
  const windowRows: WindowRow[] = [...windows.closed.values()].map((w) => ({ definition: WINDOW.name, accountId: w.accountId, windowStart: w.windowStart, count: w.count, sumUsd: w.sumUsd, version: 1, final: true }));
  const aggregates = [...windows.closed.values()].map((w, i): TopicRecord => ({
    topic: DEFAULT_TOPICS.aggregates, partition: 0, offset: String(i), key: w.accountId, headers: {},
    value: JSON.stringify({
      schemaVersion: 1, tenantId: TENANT, definition: WINDOW.name, groupKey: `${TENANT}|${w.accountId}`, group: { tenantId: TENANT, accountId: w.accountId }, windowType: 'tumbling',
      windowStart: w.windowStart, windowEnd: w.windowEnd, values: { count: w.count, sumUsd: w.sumUsd }, count: w.count, version: 1, final: true, emittedAt: 3,
    }),
  }));
  const alerts = [...referenceAlerts(observed, DEFAULT_RULES, TENANT).values()];
  const alertRows: AlertRow[] = alerts.map(({ tenantId: _tenant, ...a }, i) => ({ ...a, alertId: `id-${i}` }));
  return {
    attempts, sent, tenantId: TENANT, usdRates: new Map([['USD', 1]]), topics: { ...DEFAULT_TOPICS }, groups: GROUPS, window: WINDOW, rules: DEFAULT_RULES,
    poison: [{ id: 'p1', topic: DEFAULT_TOPICS.raw, kind: 'invalid JSON' }, { id: 'p2', topic: DEFAULT_TOPICS.enriched, kind: 'unknown schemaVersion' }],
    raw, enriched,
    dlq: [dlqFor(rawPoison, GROUPS.enrich, 0), dlqFor(enrichedPoison, GROUPS.aggregate, 1), dlqFor(enrichedPoison, GROUPS.alert, 2)],
    late: [], aggregates, windowRows,
    alerts: alerts.map((a, i) => ({
      topic: DEFAULT_TOPICS.alerts, partition: 0, offset: String(i), key: a.accountId, headers: {},
      value: JSON.stringify({ schemaVersion: 1, alertId: `id-${i}`, ...a, detectedAt: 4, explanation: {} }),
    })),
    alertRows,
  };
}

function failedChecks(input: CheckInput): string[] {
  return check(input).failures.map((f) => f.check);
}

describe('fault-suite checker', () => {
  it('passes a consistent run, and its oracle is not trivial (windows, an alert, poison)', () => {
    const input = perfectRun();
    const report = check(input);
    expect(report.failures).toEqual([]);
    expect(report.windows).toEqual({ expected: 3, actual: 3 });
    expect(report.alerts.expected).toBe(1);
    expect(report.accounting.every((l) => !l.includes('MISMATCH'))).toBe(true);
  });

  it('detects a lost acknowledged event, and its missing enriched copy does not hide it', () => {
    const input = perfectRun();
    input.raw = input.raw.filter((r) => !r.value!.includes('"e3"'));
    const report = check(input);
    expect(report.lost).toBe(1);
    expect(report.failures.map((f) => f.check)).toContain('raw: acknowledged events missing (lost)');
  });

  it('detects a duplicate of a cleanly acknowledged event, but only reports one after an unknown attempt', () => {
    const input = perfectRun();
    input.raw.push({ ...input.raw[0], offset: '50' });
    expect(failedChecks(input)).toContain('raw: events more often than the log allows (duplicated)');

    const retried = perfectRun();
    retried.attempts.set('e1', { acknowledged: 1, rejected: 0, unknown: 1 });
    retried.raw.push({ ...retried.raw[0], offset: '50' });
    retried.enriched.push({ ...retried.enriched[0], offset: '51' });
    const report = check(retried);
    expect(report.unknownDuplicates).toBe(1);
    expect(report.duplicated).toBe(0);
    expect(report.failures.map((f) => f.check)).not.toContain('raw: events more often than the log allows (duplicated)');
  });

  it('detects a rejected event that reached the topic', () => {
    const input = perfectRun();
    input.raw.push(rawRecord({ eventId: 'r1', accountId: 'a', occurredAt: BASE + 1_500, amount: 1, partition: 0 }, 60));
    expect(failedChecks(input)).toContain('raw: rejected events present');
  });

  it('detects enriched records missing or duplicated against raw', () => {
    const missing = perfectRun();
    missing.enriched = missing.enriched.filter((r) => !r.value!.includes('"e4"'));
    expect(failedChecks(missing)).toContain('enriched: raw events without their enriched record (lost)');
    const twice = perfectRun();
    twice.enriched.push({ ...twice.enriched[0], offset: '77' });
    expect(failedChecks(twice)).toContain('enriched: enriched records beyond their raw records (duplicated)');
  });

  it('detects poison that was not dead-lettered, or dead-lettered with a wrong origin', () => {
    const notInDlq = perfectRun();
    notInDlq.dlq = notInDlq.dlq.filter((d) => d.headers[DLQ_HEADERS.consumerGroup] !== GROUPS.alert);
    expect(failedChecks(notInDlq)).toContain('poison: not dead-lettered');
    const wrongOrigin = perfectRun();
    wrongOrigin.dlq[0] = { ...wrongOrigin.dlq[0], headers: { ...wrongOrigin.dlq[0].headers, [DLQ_HEADERS.originOffset]: '999' } };
    expect(failedChecks(wrongOrigin)).toContain('poison: DLQ record with wrong origin/error headers or value');
    const twice = perfectRun();
    twice.dlq.push({ ...twice.dlq[0], offset: '9' });
    expect(failedChecks(twice)).toContain('dlq: one origin dead-lettered more than once by one group (duplicated)');
  });

  it('detects window results that differ from the oracle, and duplicated or missing publications', () => {
    const wrong = perfectRun();
    wrong.windowRows[0] = { ...wrong.windowRows[0], count: wrong.windowRows[0].count + 1 };
    expect(failedChecks(wrong)).toEqual(expect.arrayContaining(['windows: Postgres differs from the oracle', 'accounting: processed + DLQ + late ≠ input']));
    const twice = perfectRun();
    twice.aggregates.push({ ...twice.aggregates[0], offset: '9' });
    expect(failedChecks(twice)).toContain('aggregates topic: window published more than once (duplicated)');
    const unpublished = perfectRun();
    unpublished.aggregates = unpublished.aggregates.slice(1);
    expect(failedChecks(unpublished)).toContain('aggregates topic: closed window not published');
  });

  it('detects a late record the oracle predicts but the aggregate did not report', () => {
    const input = perfectRun();
    // e0 arrives after a's first window closed (watermark BASE + 498 000 on partition 0).
    const e0: Ev = { eventId: 'e0', accountId: 'a', occurredAt: BASE + 500, amount: 5, partition: 0 };
    const lateRaw = rawRecord(e0, 70);
    input.attempts.set('e0', { acknowledged: 1, rejected: 0, unknown: 0 });
    input.sent.set('e0', sentOf(e0));
    input.raw.push(lateRaw);
    input.enriched.push(enrichedRecord(lateRaw, 71));
    expect(failedChecks(input)).toContain('late topic: predicted TOO_LATE record not reported');
    input.late.push({ topic: DEFAULT_TOPICS.late, partition: 0, offset: '0', key: 'a', headers: {}, value: JSON.stringify({ reason: 'TOO_LATE', eventId: 'e0', source: { partition: 0, offset: '71' } }) });
    expect(check(input).failures).toEqual([]);
  });

  it('detects a field of an enriched record that differs from what the client sent (amountUsd included)', () => {
    const input = perfectRun();
    const value = JSON.parse(input.enriched[0].value!);
    input.enriched[0] = { ...input.enriched[0], value: JSON.stringify({ ...value, amountUsd: value.amountUsd + 0.01 }) };
    expect(failedChecks(input)).toContain('enriched: content differs from what the client sent (amountUsd included)');
  });

  it('detects a field of a published window that differs from the reference', () => {
    const input = perfectRun();
    const value = JSON.parse(input.aggregates[0].value!);
    input.aggregates[0] = { ...input.aggregates[0], value: JSON.stringify({ ...value, windowEnd: value.windowEnd + 1 }) };
    expect(failedChecks(input)).toEqual(['aggregates topic: a field differs from the reference']);
  });

  it('detects alerts missing, extra, with a wrong field, or published twice', () => {
    const missing = perfectRun();
    missing.alertRows = [];
    expect(failedChecks(missing)).toEqual(expect.arrayContaining(['alerts: expected alert missing in Postgres', 'alerts topic: published alert not stored, or a field differs from the reference']));
    const extra = perfectRun();
    extra.alertRows.push({ ...extra.alertRows[0], alertId: 'deadbeef', eventIds: ['e1'] });
    expect(failedChecks(extra)).toEqual(expect.arrayContaining(['alerts: alert in Postgres the reference does not raise', 'alerts topic: stored alert not published']));
    const wrongField = perfectRun();
    wrongField.alertRows[0] = { ...wrongField.alertRows[0], severity: 'low' };
    expect(failedChecks(wrongField)).toEqual(['alerts: a field in Postgres differs from the reference']);
    const twice = perfectRun();
    twice.alerts[0].headers = { 'x-outbox-source-partition': 'events.enriched-2', 'x-outbox-seq': '41' };
    twice.alerts.push({ ...twice.alerts[0], offset: '9' });
    const report = check(twice);
    expect(report.topicDuplicates.alerts).toBe(1);
    const finding = report.failures.find((f) => f.check === 'alerts topic: alertId published more than once (duplicated)');
    // Each copy says where it is and which outbox row published it: the same row twice here.
    expect(finding?.examples[0]).toMatch(/×2 at \d+:\d+ \(outbox events\.enriched-2 #41\), \d+:9 \(outbox events\.enriched-2 #41\)$/);
  });

  it('checks the repartitioned definition against its reference: shuffle one to one, final and open windows, finals published once', () => {
    const input = perfectRun();
    const spec = { name: 'merchant-1h', groupBy: 'merchantId' as const, sizeMs: 3_600_000, maxOutOfOrdernessMs: 2_000, allowedLatenessMs: 60_000 };
    const events = input.enriched.filter((r) => !r.headers[POISON_HEADER]);
    input.repartition = events.map((r, i) => ({
      topic: DEFAULT_TOPICS.repartition, partition: 0, offset: String(i), key: 'merchant-1h|faults|mer-1', value: r.value,
      headers: { [REPARTITION_HEADERS.definition]: spec.name, [REPARTITION_HEADERS.sourcePartition]: String(r.partition), [REPARTITION_HEADERS.sourceOffset]: r.offset },
    }));
    const observed: ObservedShuffled[] = input.repartition.map((r, i) => {
      const event = input.sent.get(JSON.parse(r.value!).eventId)!;
      return { partition: 0, offset: r.offset, event, amountUsd: event.amount, source: { partition: events[i].partition, offset: events[i].offset } };
    });
    const oracle = referenceUpdateWindows(observed, spec);
    expect(oracle.open.size).toBe(1); // all of it in one hour, not closed: an open window whose latest update is checked
    input.merchantWindow = spec;
    for (const [state, windows] of [['closed', oracle.closed], ['open', oracle.open]] as const) {
      for (const w of windows.values()) {
        input.windowRows.push({ definition: spec.name, accountId: w.group, windowStart: w.windowStart, count: w.count, sumUsd: w.sumUsd, accounts: w.accounts, version: 3, final: state === 'closed' });
      }
    }
    expect(check(input).failures).toEqual([]);
    const wrong = { ...input, windowRows: input.windowRows.map((r) => (r.definition === spec.name ? { ...r, accounts: (r.accounts ?? 0) + 1 } : r)) };
    expect(failedChecks(wrong)).toEqual(['merchant-1h: Postgres differs from the reference']);
    const lost = { ...input, repartition: input.repartition.slice(1) };
    expect(failedChecks(lost)).toEqual(expect.arrayContaining(['merchant-1h: events.enriched records without their events.repartition record (lost)']));
  });
});
