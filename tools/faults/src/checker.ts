/**
 * Compares what the pipeline produced (topics read back with read_committed, Postgres rows) with the client's
 * request log and the oracle. Pure: everything it needs is passed in, so each check is unit-tested with
 * synthetic logs and topic contents.
 *
 * Per-event rule for `events.raw` (see request-log.ts): an event acknowledged without any unknown attempt
 * must be there exactly once; an event with an unknown attempt at most once per attempt that may have
 * written it (and at least once if one attempt was acknowledged) — its extra copies are reported as
 * "unknown-duplicates", which the contract allows (ingest's 503 says "retry"; downstream deduplicates by
 * eventId); a rejected event must be nowhere.
 */
import { DLQ_HEADERS, OUTBOX_HEADERS, REPARTITION_HEADERS, TopicNames } from '@streamguard/common';
import { JsonRecord, POISON_HEADER, readEventRecords, TopicRecord } from './oracle';
import {
  alertKey, ExpectedAlert, expectedAmountUsd, ObservedEvent, ObservedShuffled, referenceAlerts, ReferenceRule, referenceUpdateWindows, referenceWindows, SentEvent,
  sourceKey, UpdateWindowOracle, UpdateWindowSpec, WindowSpec, windowKey,
} from './reference';
import { EventAttempts, occurrenceBounds } from './request-log';

export interface WindowRow {
  definition: string;
  /** The group: accountId for account-1m, merchantId for merchant-1h. */
  accountId: string;
  /** maxUsd (account-1m) or accounts (merchant-1h), when the definition has it. */
  maxUsd?: number | null;
  accounts?: number | null;
  windowStart: number;
  count: number;
  sumUsd: number;
  version: number;
  final: boolean;
}

export interface PoisonRecord {
  id: string;
  topic: string;
  kind: string;
}

/** An alert as stored in Postgres. */
export interface AlertRow extends Omit<ExpectedAlert, 'tenantId'> {
  alertId: string;
}

export interface CheckInput {
  attempts: ReadonlyMap<string, EventAttempts>;
  /** Every event as the client sent it, by eventId. */
  sent: ReadonlyMap<string, SentEvent>;
  /** The tenant of the client's API key. */
  tenantId: string;
  /** usd_rate per currency, as the reference data (Postgres `fx_rates`) holds it. */
  usdRates: ReadonlyMap<string, number>;
  topics: TopicNames;
  groups: { enrich: string; aggregate: string; alert: string };
  window: WindowSpec;
  /** The repartitioned definition the services run beside `window`, read back from events.repartition. */
  merchantWindow?: UpdateWindowSpec;
  repartition?: TopicRecord[];
  rules: ReferenceRule[];
  poison: PoisonRecord[];
  raw: TopicRecord[];
  enriched: TopicRecord[];
  dlq: TopicRecord[];
  late: TopicRecord[];
  aggregates: TopicRecord[];
  alerts: TopicRecord[];
  windowRows: WindowRow[];
  alertRows: AlertRow[];
}

export interface Finding {
  check: string;
  count: number;
  examples: string[];
}

export interface CheckReport {
  lost: number;
  duplicated: number;
  unknownDuplicates: number;
  rejectedPresent: number;
  dlq: number;
  late: number;
  windows: { expected: number; actual: number };
  alerts: { expected: number; actual: number; topic: number };
  topicDuplicates: { alerts: number; aggregates: number; late: number; dlq: number };
  accounting: string[];
  failures: Finding[];
}

const EXAMPLES = 5;

class Findings {
  readonly list: Finding[] = [];
  add(check: string, items: string[]): number {
    if (items.length > 0) this.list.push({ check, count: items.length, examples: items.slice(0, EXAMPLES) });
    return items.length;
  }
}

function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/**
 * Ids found on more than one record, each with where its copies are: partition@offset and the outbox row that
 * published it (the same row twice: published twice; different rows: produced twice).
 */
function duplicatedWithCopies(records: TopicRecord[], idOf: (record: TopicRecord) => string | undefined): string[] {
  const byId = new Map<string, TopicRecord[]>();
  for (const record of records) {
    const id = idOf(record);
    if (id === undefined) continue;
    const copies = byId.get(id) ?? [];
    copies.push(record);
    byId.set(id, copies);
  }
  return [...byId].filter(([, copies]) => copies.length > 1).map(([id, copies]) => `${id} ×${copies.length} at ${copies
    .map((r) => `${sourceKey(r.partition, r.offset)} (outbox ${r.headers[OUTBOX_HEADERS.sourcePartition] ?? '?'} #${r.headers[OUTBOX_HEADERS.seq] ?? '?'})`).join(', ')}`);
}

function isPoison(record: TopicRecord): boolean {
  return record.headers[POISON_HEADER] !== undefined;
}

function closeEnough(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
}

function parse<T>(record: TopicRecord): T | undefined {
  try {
    return JSON.parse(record.value ?? '') as T;
  } catch {
    return undefined;
  }
}

/**
 * Fields of a raw or enriched record that differ from what the client sent (every field the client set, the
 * tenant, and for enriched records amountUsd as the reference data defines it).
 */
function contentProblems(record: JsonRecord, input: CheckInput, enriched: boolean): string[] {
  const sent = input.sent.get(record.eventId);
  if (!sent) return ['an eventId the client never sent'];
  const json = record.json;
  const expected: Record<string, unknown> = {
    schemaVersion: 1, eventId: sent.eventId, occurredAt: sent.occurredAt, accountId: sent.accountId, amount: sent.amount, currency: sent.currency,
    merchantId: sent.merchantId, tenantId: input.tenantId, ...(enriched ? { amountUsd: expectedAmountUsd(sent, input.usdRates) } : {}),
  };
  const problems = Object.entries(expected).filter(([field, value]) => json[field] !== value).map(([field, value]) => `${field} ${JSON.stringify(json[field])} ≠ ${JSON.stringify(value)}`);
  if (typeof json.receivedAt !== 'number') problems.push('receivedAt missing');
  return problems;
}

function sumCounts(windows: Map<string, { count: number }>): number {
  return [...windows.values()].reduce((s, w) => s + w.count, 0);
}

/**
 * The repartitioned definition (merchant-1h: tumbling 1 h by merchant, lateness 60 s, emit update): events.repartition
 * one to one with events.enriched; closed windows final in Postgres and published final once, open windows' latest
 * update equal to the reference; TOO_LATE reports exactly the predicted ones (they name the events.enriched record).
 */
function checkMerchantWindows(
  input: CheckInput, spec: UpdateWindowSpec, enrichedSources: string[],
  late: Array<{ reason: string; definition: string | null; source: { partition: number; offset: string }; eventId: string }>, f: Findings,
): { input: number; oracle: UpdateWindowOracle } {
  const shuffled = readEventRecords((input.repartition ?? []).filter((r) => r.headers[REPARTITION_HEADERS.definition] === spec.name));
  f.add(`${spec.name}: events.repartition records that are not events`, shuffled.invalid.map((i) => `${sourceKey(i.record.partition, i.record.offset)} ${i.reason}`));
  const observed: ObservedShuffled[] = shuffled.valid.flatMap((r) => {
    const event = input.sent.get(r.eventId);
    const source = { partition: Number(r.record.headers[REPARTITION_HEADERS.sourcePartition]), offset: r.record.headers[REPARTITION_HEADERS.sourceOffset] ?? '' };
    return event ? [{ partition: r.record.partition, offset: r.record.offset, event, amountUsd: expectedAmountUsd(event, input.usdRates), source }] : [];
  });
  const bySource = countBy(observed, (o) => sourceKey(o.source.partition, o.source.offset));
  f.add(`${spec.name}: events.enriched records without their events.repartition record (lost)`, enrichedSources.filter((k) => !bySource.has(k)));
  f.add(`${spec.name}: events.enriched records shuffled more than once (duplicated)`, [...bySource].filter(([, n]) => n > 1).map(([k, n]) => `${k} ×${n}`));
  const oracle = referenceUpdateWindows(observed, spec);
  const rows = new Map(input.windowRows.filter((r) => r.definition === spec.name).map((r) => [windowKey(r.accountId, r.windowStart), r]));
  const problems: string[] = [];
  for (const [state, windows] of [['closed', oracle.closed], ['open', oracle.open]] as const) {
    for (const [key, w] of windows) {
      const r = rows.get(key);
      if (!r) problems.push(`${key} (${state}) missing`);
      else if (r.count !== w.count || !closeEnough(r.sumUsd, w.sumUsd) || r.accounts !== w.accounts || r.final !== (state === 'closed')) {
        problems.push(`${key} (${state}): count ${r.count}/${w.count} sumUsd ${r.sumUsd}/${w.sumUsd} accounts ${r.accounts}/${w.accounts} final ${r.final}`);
      }
    }
  }
  for (const key of rows.keys()) if (!oracle.closed.has(key) && !oracle.open.has(key)) problems.push(`${key} in Postgres but not a window of the reference`);
  f.add(`${spec.name}: Postgres differs from the reference`, problems);
  const finals = (input.aggregates.map((r) => ({ r, m: parse<Record<string, unknown> & { group?: Record<string, unknown>; values?: Record<string, unknown> }>(r) })))
    .filter(({ m }) => m?.definition === spec.name);
  f.add(`${spec.name}: a (window, version) published more than once (duplicated)`, duplicatedWithCopies(finals.map(({ r }) => r), (r) => {
    const m = parse<{ group?: Record<string, unknown>; windowStart: number; version: number }>(r);
    return m ? `${String(m.group?.[spec.groupBy])}@${m.windowStart} v${m.version}` : undefined;
  }));
  const finalByKey = countBy(finals.filter(({ m }) => m?.final === true), ({ m }) => windowKey(String(m!.group?.[spec.groupBy]), Number(m!.windowStart)));
  f.add(`${spec.name}: closed window without exactly one final result on the topic`, [...oracle.closed.keys()].filter((k) => finalByKey.get(k) !== 1).map((k) => `${k} ×${finalByKey.get(k) ?? 0}`));
  f.add(`${spec.name}: final result on the topic differs from the reference`, finals.filter(({ m }) => m?.final === true).flatMap(({ m }) => {
    const key = windowKey(String(m!.group?.[spec.groupBy]), Number(m!.windowStart));
    const w = oracle.closed.get(key);
    if (!w) return [`${key} final but not closed in the reference`];
    const v = m!.values ?? {};
    return m!.count === w.count && v.count === w.count && closeEnough(Number(v.sumUsd), w.sumUsd) && v.accounts === w.accounts && m!.windowEnd === w.windowEnd
      && m!.tenantId === input.tenantId && m!.windowType === 'tumbling' ? [] : [`${key}: ${JSON.stringify(m).slice(0, 300)}`];
  }));
  const merchantLate = late.filter((m) => m.definition === spec.name);
  const lateKeys = countBy(merchantLate, (m) => sourceKey(m.source.partition, m.source.offset));
  f.add(`${spec.name}: predicted TOO_LATE record not reported`, [...oracle.late].filter((k) => !lateKeys.has(k)));
  f.add(`${spec.name}: record reported late that the reference counts, or twice`, [...lateKeys].filter(([k, n]) => n > 1 || !oracle.late.has(k)).map(([k, n]) => `${k} ×${n}`));
  return { input: shuffled.valid.length + shuffled.invalid.length, oracle };
}

export function check(input: CheckInput): CheckReport {
  const f = new Findings();

  // 1. events.raw against the request log.
  const raw = readEventRecords(input.raw.filter((r) => !isPoison(r)));
  f.add('raw: records that are not events (not planted poison)', raw.invalid.map((i) => `${sourceKey(i.record.partition, i.record.offset)} ${i.reason}`));
  f.add('raw: content differs from what the client sent', raw.valid.flatMap((r) => {
    const problems = contentProblems(r, input, false);
    return problems.length === 0 ? [] : [`${r.eventId} at ${sourceKey(r.record.partition, r.record.offset)}: ${problems.join(', ')}`];
  }));
  const inRaw = countBy(raw.valid, (d) => d.eventId);
  const lostIds: string[] = [];
  const duplicatedIds: string[] = [];
  const unknownDuplicateIds: string[] = [];
  const rejectedIds: string[] = [];
  for (const [eventId, attempts] of input.attempts) {
    const n = inRaw.get(eventId) ?? 0;
    const bounds = occurrenceBounds(attempts);
    if (attempts.acknowledged === 0 && attempts.unknown === 0 && n > 0) rejectedIds.push(`${eventId} ×${n}`);
    else if (n < bounds.min) lostIds.push(eventId);
    else if (n > bounds.max) duplicatedIds.push(`${eventId} ×${n} (${attempts.acknowledged} acknowledged, ${attempts.unknown} unknown attempts)`);
    else if (!bounds.exact && n > 1) unknownDuplicateIds.push(`${eventId} ×${n}`);
  }
  f.add('raw: acknowledged events missing (lost)', lostIds);
  f.add('raw: events more often than the log allows (duplicated)', duplicatedIds);
  f.add('raw: rejected events present', rejectedIds);
  f.add('raw: events nobody sent', [...inRaw.keys()].filter((id) => !input.attempts.has(id)));

  // 2. events.enriched one to one with events.raw (per eventId multiplicity, same partition and content).
  const enriched = readEventRecords(input.enriched.filter((r) => !isPoison(r)));
  f.add('enriched: records that are not events (not planted poison)', enriched.invalid.map((i) => `${sourceKey(i.record.partition, i.record.offset)} ${i.reason}`));
  const inEnriched = countBy(enriched.valid, (d) => d.eventId);
  const enrichedLost: string[] = [];
  const enrichedDuplicated: string[] = [];
  for (const [eventId, n] of inRaw) {
    const m = inEnriched.get(eventId) ?? 0;
    if (m < n) enrichedLost.push(`${eventId} raw ×${n}, enriched ×${m}`);
    if (m > n) enrichedDuplicated.push(`${eventId} raw ×${n}, enriched ×${m}`);
  }
  for (const [eventId, m] of inEnriched) if (!inRaw.has(eventId)) enrichedDuplicated.push(`${eventId} raw ×0, enriched ×${m}`);
  f.add('enriched: raw events without their enriched record (lost)', enrichedLost);
  f.add('enriched: enriched records beyond their raw records (duplicated)', enrichedDuplicated);
  const rawById = new Map(raw.valid.map((d) => [d.eventId, d]));
  f.add('enriched: content differs from what the client sent (amountUsd included)', enriched.valid.flatMap((r) => {
    const problems = contentProblems(r, input, true);
    const inRawAt = rawById.get(r.eventId)?.record.partition;
    if (inRawAt !== undefined && inRawAt !== r.record.partition) problems.push(`partition ${r.record.partition} ≠ raw partition ${inRawAt}`);
    return problems.length === 0 ? [] : [`${r.eventId} at ${sourceKey(r.record.partition, r.record.offset)}: ${problems.join(', ')}`];
  }));
  // The reference's input: the order of events.enriched, the values the client sent.
  const observed: ObservedEvent[] = enriched.valid.flatMap((r) => {
    const event = input.sent.get(r.eventId);
    return event ? [{ partition: r.record.partition, offset: r.record.offset, event, amountUsd: expectedAmountUsd(event, input.usdRates) }] : [];
  });

  // 3. Poison: each planted record is in its topic, and in the DLQ once per consuming group, with its origin.
  const dlqByOrigin = countBy(input.dlq, (d) => `${d.headers[DLQ_HEADERS.originTopic]}|${d.headers[DLQ_HEADERS.originPartition]}|${d.headers[DLQ_HEADERS.originOffset]}|${d.headers[DLQ_HEADERS.consumerGroup]}`);
  const expectedDlq = new Set<string>();
  const poisonMissing: string[] = [];
  const poisonNotInDlq: string[] = [];
  const poisonBadHeaders: string[] = [];
  const planted = new Map([...input.raw, ...input.enriched].filter(isPoison).map((r) => [r.headers[POISON_HEADER], r]));
  for (const p of input.poison) {
    const record = planted.get(p.id);
    if (!record) {
      poisonMissing.push(`${p.id} (${p.kind}) not in ${p.topic}`);
      continue;
    }
    const groups = record.topic === input.topics.raw ? [input.groups.enrich] : [input.groups.aggregate, input.groups.alert];
    for (const group of groups) {
      const origin = `${record.topic}|${record.partition}|${record.offset}|${group}`;
      expectedDlq.add(origin);
      const copies = input.dlq.filter((d) => d.headers[POISON_HEADER] === p.id && d.headers[DLQ_HEADERS.consumerGroup] === group);
      if (copies.length === 0) {
        poisonNotInDlq.push(`${p.id} (${p.kind}, ${sourceKey(record.partition, record.offset)}) from ${group}`);
        continue;
      }
      for (const d of copies) {
        const h = d.headers;
        const problems = [
          h[DLQ_HEADERS.originTopic] !== record.topic && 'origin topic',
          h[DLQ_HEADERS.originPartition] !== String(record.partition) && 'origin partition',
          h[DLQ_HEADERS.originOffset] !== record.offset && 'origin offset',
          h[DLQ_HEADERS.errorClass] !== 'PoisonRecordError' && `error class ${h[DLQ_HEADERS.errorClass]}`,
          !h[DLQ_HEADERS.errorMessage] && 'error message',
          !h[DLQ_HEADERS.errorCode] && 'error code',
          d.value !== record.value && 'value not byte for byte',
        ].filter(Boolean);
        if (problems.length > 0) poisonBadHeaders.push(`${p.id} from ${group}: ${problems.join(', ')}`);
      }
    }
  }
  f.add('poison: planted records missing from their topic', poisonMissing);
  f.add('poison: not dead-lettered', poisonNotInDlq);
  f.add('poison: DLQ record with wrong origin/error headers or value', poisonBadHeaders);
  f.add('dlq: records that are not planted poison', input.dlq.filter((d) => !expectedDlq.has(`${d.headers[DLQ_HEADERS.originTopic]}|${d.headers[DLQ_HEADERS.originPartition]}|${d.headers[DLQ_HEADERS.originOffset]}|${d.headers[DLQ_HEADERS.consumerGroup]}`))
    .map((d) => `${d.headers[DLQ_HEADERS.consumerGroup]} ${d.headers[DLQ_HEADERS.originTopic]} ${d.headers[DLQ_HEADERS.originPartition]}:${d.headers[DLQ_HEADERS.originOffset]} ${d.headers[DLQ_HEADERS.errorCode]}`));
  const dlqDuplicates = [...dlqByOrigin].filter(([, n]) => n > 1).map(([origin, n]) => `${origin} ×${n}`);
  f.add('dlq: one origin dead-lettered more than once by one group (duplicated)', dlqDuplicates);

  // 4. Windows: Postgres and the aggregates topic equal the reference; late records exactly the predicted ones.
  const oracle = referenceWindows(observed, input.window);
  const rows = input.windowRows.filter((r) => r.definition === input.window.name);
  const rowByKey = new Map(rows.map((r) => [windowKey(r.accountId, r.windowStart), r]));
  const windowProblems: string[] = [];
  for (const [key, w] of oracle.closed) {
    const r = rowByKey.get(key);
    if (!r) windowProblems.push(`${key} missing (expected count ${w.count})`);
    else if (r.count !== w.count || !closeEnough(r.sumUsd, w.sumUsd) || (r.maxUsd !== undefined && r.maxUsd !== w.maxUsd)) windowProblems.push(`${key} count ${r.count}/${w.count} sumUsd ${r.sumUsd}/${w.sumUsd} maxUsd ${r.maxUsd}/${w.maxUsd}`);
    else if (!r.final || r.version !== 1) windowProblems.push(`${key} final=${r.final} version=${r.version}`);
  }
  for (const key of rowByKey.keys()) if (!oracle.closed.has(key)) windowProblems.push(`${key} in Postgres but not a closed window of the oracle`);
  f.add('windows: Postgres differs from the oracle', windowProblems);

  type Published = {
    schemaVersion: number; tenantId: string; definition: string; groupKey: string; group: Record<string, unknown>; windowType: string; windowStart: number;
    windowEnd: number; count: number; version: number; final: boolean; values: { count?: number; sumUsd?: number; maxUsd?: number | null; accounts?: number }; emittedAt: number;
  };
  const published = input.aggregates.map((r) => parse<Published>(r))
    .filter((m): m is NonNullable<typeof m> => m !== undefined && m.definition === input.window.name);
  const aggregatesDuplicates = duplicatedWithCopies(input.aggregates, (r) => {
    const m = parse<{ definition: string; groupKey: string; group: { accountId?: string }; windowStart: number }>(r);
    return m?.definition === input.window.name ? windowKey(m.group?.accountId ?? m.groupKey, m.windowStart) : undefined;
  });
  f.add('aggregates topic: window published more than once (duplicated)', aggregatesDuplicates);
  const publishedKeys = new Set(published.map((m) => windowKey(String(m.group?.accountId ?? m.groupKey), m.windowStart)));
  f.add('aggregates topic: closed window not published', [...oracle.closed.keys()].filter((k) => !publishedKeys.has(k)));
  f.add('aggregates topic: a field differs from the reference', published.flatMap((m) => {
    const key = windowKey(String(m.group?.accountId ?? m.groupKey), m.windowStart);
    const w = oracle.closed.get(key);
    if (!w) return [`${key} published but not a closed window of the reference`];
    const expected: Record<string, unknown> = {
      schemaVersion: 1, tenantId: input.tenantId, groupKey: `${input.tenantId}|${w.accountId}`, windowType: 'tumbling', windowEnd: w.windowEnd, count: w.count, version: 1, final: true,
      group: JSON.stringify({ tenantId: input.tenantId, accountId: w.accountId }), valuesCount: w.count,
    };
    const actual: Record<string, unknown> = { ...m, group: JSON.stringify(m.group), valuesCount: m.values?.count };
    const problems = Object.entries(expected).filter(([field, value]) => actual[field] !== value).map(([field, value]) => `${field} ${JSON.stringify(actual[field])} ≠ ${JSON.stringify(value)}`);
    if (!closeEnough(m.values?.sumUsd ?? NaN, w.sumUsd)) problems.push(`sumUsd ${m.values?.sumUsd} ≠ ${w.sumUsd}`);
    if ('maxUsd' in (m.values ?? {}) && m.values.maxUsd !== w.maxUsd) problems.push(`maxUsd ${m.values.maxUsd} ≠ ${w.maxUsd}`);
    if (typeof m.emittedAt !== 'number') problems.push('emittedAt missing');
    return problems.length === 0 ? [] : [`${key}: ${problems.join(', ')}`];
  }));

  const allLate = input.late.map((r) => parse<{ reason: string; definition: string | null; source: { partition: number; offset: string }; eventId: string }>(r)).filter((m): m is NonNullable<typeof m> => m !== undefined);
  const lateMessages = allLate.filter((m) => input.merchantWindow === undefined || m.definition !== input.merchantWindow.name);
  const lateCounts = countBy(lateMessages, (m) => sourceKey(m.source.partition, m.source.offset));
  const lateDuplicates = [...lateCounts].filter(([, n]) => n > 1).map(([key, n]) => `${key} ×${n}`);
  f.add('late topic: one record reported more than once (duplicated)', lateDuplicates);
  f.add('late topic: predicted TOO_LATE record not reported', [...oracle.late].filter((k) => !lateCounts.has(k)));
  f.add('late topic: record reported late that the oracle counts', lateMessages.filter((m) => m.reason !== 'TOO_LATE' || !oracle.late.has(sourceKey(m.source.partition, m.source.offset)))
    .map((m) => `${m.eventId} ${m.reason} at ${sourceKey(m.source.partition, m.source.offset)}`));

  // 4b. The repartitioned definition, against its reference over the log order of events.repartition.
  const merchant = input.merchantWindow ? checkMerchantWindows(input, input.merchantWindow, enriched.valid.map((r) => sourceKey(r.record.partition, r.record.offset)), allLate, f) : undefined;

  // 5. Alerts: Postgres and the topic equal the reference, field by field; the topic carries each alert once.
  const expectedAlerts = referenceAlerts(observed, input.rules, input.tenantId);
  const storedByKey = new Map(input.alertRows.map((r) => [alertKey(r), r]));
  const fieldsDiffer = (actual: Record<string, unknown>, expected: ExpectedAlert, fields: Array<keyof ExpectedAlert>) => fields
    .filter((field) => JSON.stringify(actual[field]) !== JSON.stringify(expected[field])).map((field) => `${field} ${JSON.stringify(actual[field])} ≠ ${JSON.stringify(expected[field])}`);
  const storedFields: Array<keyof ExpectedAlert> = ['ruleId', 'ruleVersion', 'ruleType', 'severity', 'accountId', 'groupKey', 'eventIds', 'occurredAt'];
  f.add('alerts: expected alert missing in Postgres', [...expectedAlerts.keys()].filter((k) => !storedByKey.has(k)));
  f.add('alerts: alert in Postgres the reference does not raise', [...storedByKey.keys()].filter((k) => !expectedAlerts.has(k)));
  f.add('alerts: a field in Postgres differs from the reference', [...storedByKey].flatMap(([k, row]) => {
    const expected = expectedAlerts.get(k);
    const problems = expected ? fieldsDiffer(row as unknown as Record<string, unknown>, expected, storedFields) : [];
    return problems.length === 0 ? [] : [`${k}: ${problems.join(', ')}`];
  }));
  type PublishedAlert = ExpectedAlert & { alertId: string; schemaVersion: number; detectedAt: number };
  const topicAlerts = input.alerts.map((r) => ({ r, m: parse<PublishedAlert>(r) }));
  const alertDuplicates = duplicatedWithCopies(input.alerts, (r) => parse<{ alertId: string }>(r)?.alertId);
  f.add('alerts topic: alertId published more than once (duplicated)', alertDuplicates);
  const publishedIds = new Set(topicAlerts.map(({ m }) => m?.alertId));
  f.add('alerts topic: stored alert not published', input.alertRows.filter((row) => !publishedIds.has(row.alertId)).map((row) => `${alertKey(row)} ${row.alertId}`));
  f.add('alerts topic: published alert not stored, or a field differs from the reference', topicAlerts.flatMap(({ r, m }) => {
    if (!m) return [`undecodable at ${sourceKey(r.partition, r.offset)}`];
    const row = storedByKey.get(alertKey(m));
    const expected = expectedAlerts.get(alertKey(m));
    if (!row || row.alertId !== m.alertId) return [`${alertKey(m)} ${m.alertId} not stored under that id`];
    const problems = expected ? fieldsDiffer(m as unknown as Record<string, unknown>, expected, [...storedFields, 'tenantId']) : ['not raised by the reference'];
    if (m.schemaVersion !== 1 || typeof m.detectedAt !== 'number') problems.push('schemaVersion or detectedAt');
    return problems.length === 0 ? [] : [`${alertKey(m)}: ${problems.join(', ')}`];
  }));

  // 6. Accounting per stage: every input record is processed, dead-lettered or reported late — nothing else.
  const dlqOf = (group: string, topic: string) => input.dlq.filter((d) => d.headers[DLQ_HEADERS.consumerGroup] === group && d.headers[DLQ_HEADERS.originTopic] === topic).length;
  const accounting: string[] = [];
  const balance = (stage: string, inputCount: number, parts: Array<[string, number]>) => {
    const total = parts.reduce((s, [, n]) => s + n, 0);
    accounting.push(`${stage}: input ${inputCount} = ${parts.map(([name, n]) => `${name} ${n}`).join(' + ')}${total === inputCount ? '' : ` (= ${total}: MISMATCH)`}`);
    return total === inputCount ? [] : [`${stage}: input ${inputCount}, accounted ${total}`];
  };
  const windowCountStored = rows.reduce((s, r) => s + r.count, 0);
  f.add('accounting: processed + DLQ + late ≠ input', [
    ...balance('enrich', input.raw.length, [['enriched', enriched.valid.length + enriched.invalid.length], ['dlq', dlqOf(input.groups.enrich, input.topics.raw)]]),
    ...balance('aggregate', input.enriched.length, [
      ['counted in closed windows (Postgres)', windowCountStored], ['counted in open windows', oracle.openCount], ['deduplicated', oracle.duplicates],
      ['late', lateCounts.size], ['dlq', dlqOf(input.groups.aggregate, input.topics.enriched)],
    ]),
    ...balance('alert', input.enriched.length, [['evaluated', enriched.valid.length], ['dlq', dlqOf(input.groups.alert, input.topics.enriched)]]),
    ...(merchant ? balance(`${input.merchantWindow!.name} (repartitioned)`, merchant.input, [
      ['counted in closed windows', sumCounts(merchant.oracle.closed)], ['counted in open windows', sumCounts(merchant.oracle.open)],
      ['deduplicated', merchant.oracle.duplicates], ['late', merchant.oracle.late.size], ['dlq', dlqOf(`${input.groups.aggregate}-repartitioned`, input.topics.repartition)],
    ]) : []),
  ]);

  return {
    lost: lostIds.length + enrichedLost.length,
    duplicated: duplicatedIds.length + enrichedDuplicated.length,
    unknownDuplicates: unknownDuplicateIds.length,
    rejectedPresent: rejectedIds.length,
    dlq: input.dlq.length,
    late: lateCounts.size,
    windows: { expected: oracle.closed.size, actual: rows.length },
    alerts: { expected: expectedAlerts.size, actual: storedByKey.size, topic: topicAlerts.length },
    topicDuplicates: { alerts: alertDuplicates.length, aggregates: aggregatesDuplicates.length, late: lateDuplicates.length, dlq: dlqDuplicates.length },
    accounting,
    failures: f.list,
  };
}
