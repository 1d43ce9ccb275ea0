/**
 * The oracle's reference implementation: what an uninterrupted, exactly-once pipeline must have produced, from
 * the client's own log of what it sent. It shares no code with the system — no decoder, window operator or
 * rule engine of ours, nothing from `@streamguard/*` — so a bug there cannot hide by being repeated here.
 *
 * The one thing it takes from the pipeline is the order of `events.enriched` (partition, offset of each
 * record, read back read_committed): every stage is deterministic given that order, and it is an observation,
 * not a computation. Every value (event time, account, amount) comes from the request log, and amountUsd is
 * computed here from the FX table as the reference data defines it (amount × usd_rate, rounded to cents).
 */

/** An event as the client sent it (the request log keeps them). */
export interface SentEvent {
  eventId: string;
  occurredAt: number;
  accountId: string;
  amount: number;
  currency: string;
  merchantId: string;
}

/** One `events.enriched` record in log order: where it is, and the event the client sent under its eventId. */
export interface ObservedEvent {
  partition: number;
  offset: string;
  event: SentEvent;
  /** amount × the currency's usd_rate, rounded to cents; null when the FX table has no rate. */
  amountUsd: number | null;
}

/** amountUsd as the reference data defines it. */
export function expectedAmountUsd(event: Pick<SentEvent, 'amount' | 'currency'>, usdRates: ReadonlyMap<string, number>): number | null {
  const rate = usdRates.get(event.currency);
  return rate === undefined ? null : Math.round(event.amount * rate * 100) / 100;
}

/** Per partition, in offset order. */
export function inLogOrder<T extends { partition: number; offset: string }>(records: T[]): T[] {
  return [...records].sort((a, b) => a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : BigInt(a.offset) > BigInt(b.offset) ? 1 : 0));
}

// ---- windows ---------------------------------------------------------------------------------------------

/** A tumbling per-account window definition with `count` and `sumUsd`, allowed lateness 0, emit final. */
export interface WindowSpec {
  name: string;
  sizeMs: number;
  maxOutOfOrdernessMs: number;
}

export interface ExpectedWindow {
  accountId: string;
  windowStart: number;
  windowEnd: number;
  count: number;
  sumUsd: number;
  maxUsd: number | null;
}

export interface WindowOracle {
  /** Closed windows (final results that must be in Postgres and on the topic), by `windowKey`. */
  closed: Map<string, ExpectedWindow>;
  /** Events counted in windows still open at the end (the final flush events). */
  openCount: number;
  /** Records that must be reported TOO_LATE, as `partition:offset`. */
  late: Set<string>;
  /** Records ignored as repeats of an eventId already counted in an open window. */
  duplicates: number;
}

export function windowKey(accountId: string, windowStart: number): string {
  return `${accountId}@${windowStart}`;
}

export function sourceKey(partition: number, offset: string): string {
  return `${partition}:${offset}`;
}

/**
 * Event-time semantics of one tumbling definition, per partition, per record: a repeat of an eventId whose
 * window is still open is ignored; a record whose window has closed (watermark >= end) is TOO_LATE; otherwise
 * it is counted. Then the watermark moves to max(event time) − bound. Windows with end <= the final watermark
 * are closed. (No idle rule: the suite's traffic runs hours behind ingest time and never pauses for the idle
 * timeout, so a correct idle rule never fires in it.)
 */
export function referenceWindows(observed: ObservedEvent[], spec: WindowSpec): WindowOracle {
  const windows = new Map<string, ExpectedWindow & { partition: number }>();
  const late = new Set<string>();
  const maxTime = new Map<number, number>();
  const counted = new Map<string, number>(); // eventId → window end
  let duplicates = 0;
  for (const { partition, offset, event, amountUsd } of inLogOrder(observed)) {
    const watermark = (maxTime.get(partition) ?? -Infinity) - spec.maxOutOfOrdernessMs;
    const start = Math.floor(event.occurredAt / spec.sizeMs) * spec.sizeMs;
    const end = start + spec.sizeMs;
    const countedEnd = counted.get(event.eventId);
    if (countedEnd !== undefined && watermark < countedEnd) {
      duplicates += 1;
    } else if (watermark >= end) {
      late.add(sourceKey(partition, offset));
    } else {
      const key = windowKey(event.accountId, start);
      const w = windows.get(key) ?? { accountId: event.accountId, windowStart: start, windowEnd: end, count: 0, sumUsd: 0, maxUsd: null, partition };
      w.count += 1;
      w.sumUsd += amountUsd ?? 0;
      if (amountUsd !== null) w.maxUsd = Math.max(w.maxUsd ?? -Infinity, amountUsd);
      windows.set(key, w);
      counted.set(event.eventId, end);
    }
    maxTime.set(partition, Math.max(maxTime.get(partition) ?? -Infinity, event.occurredAt));
  }
  const closed = new Map<string, ExpectedWindow>();
  let openCount = 0;
  for (const [key, { partition, ...w }] of windows) {
    if (w.windowEnd <= (maxTime.get(partition) ?? -Infinity) - spec.maxOutOfOrdernessMs) closed.set(key, w);
    else openCount += w.count;
  }
  return { closed, openCount, late, duplicates };
}

/** A tumbling definition grouped by one field, with allowed lateness, emit update (merchant-1h). */
export interface UpdateWindowSpec {
  name: string;
  groupBy: 'merchantId';
  sizeMs: number;
  maxOutOfOrdernessMs: number;
  allowedLatenessMs: number;
}

export interface ExpectedGroupWindow {
  group: string;
  windowStart: number;
  windowEnd: number;
  count: number;
  sumUsd: number;
  /** Distinct accountIds (the definition's approxCountDistinct is exact up to 128). */
  accounts: number;
}

export interface UpdateWindowOracle {
  /** Closed (final result due), by `windowKey(group, start)`. */
  closed: Map<string, ExpectedGroupWindow>;
  /** Still open at the end: their latest update holds these values. */
  open: Map<string, ExpectedGroupWindow>;
  /** TOO_LATE records, as the `partition:offset` of their events.enriched record (late reports name it). */
  late: Set<string>;
  duplicates: number;
}

/** One events.repartition record in log order, with the events.enriched record it came from. */
export interface ObservedShuffled extends ObservedEvent {
  source: { partition: number; offset: string };
}

/**
 * A repartitioned tumbling definition: per events.repartition partition in log order, a record is a repeat
 * while the window it was counted in is open (watermark < end + lateness), TOO_LATE once every window it falls
 * in is closed (watermark >= end + lateness), else counted; the watermark is max(event time) − bound. A window
 * closes (final result) when the watermark reaches end + lateness.
 */
export function referenceUpdateWindows(observed: ObservedShuffled[], spec: UpdateWindowSpec): UpdateWindowOracle {
  const windows = new Map<string, ExpectedGroupWindow & { partition: number; accountSet: Set<string> }>();
  const late = new Set<string>();
  const maxTime = new Map<number, number>();
  const counted = new Map<string, number>(); // eventId → window end
  let duplicates = 0;
  for (const { partition, event, amountUsd, source } of inLogOrder(observed)) {
    const watermark = (maxTime.get(partition) ?? -Infinity) - spec.maxOutOfOrdernessMs;
    const start = Math.floor(event.occurredAt / spec.sizeMs) * spec.sizeMs;
    const end = start + spec.sizeMs;
    const countedEnd = counted.get(event.eventId);
    if (countedEnd !== undefined && watermark < countedEnd + spec.allowedLatenessMs) {
      duplicates += 1;
    } else if (watermark >= end + spec.allowedLatenessMs) {
      late.add(sourceKey(source.partition, source.offset));
    } else {
      const group = event[spec.groupBy];
      const key = windowKey(group, start);
      const w = windows.get(key) ?? { group, windowStart: start, windowEnd: end, count: 0, sumUsd: 0, accounts: 0, partition, accountSet: new Set<string>() };
      w.count += 1;
      w.sumUsd += amountUsd ?? 0;
      w.accountSet.add(event.accountId);
      w.accounts = w.accountSet.size;
      windows.set(key, w);
      counted.set(event.eventId, end);
    }
    maxTime.set(partition, Math.max(maxTime.get(partition) ?? -Infinity, event.occurredAt));
  }
  const closed = new Map<string, ExpectedGroupWindow>();
  const open = new Map<string, ExpectedGroupWindow>();
  for (const [key, { partition, accountSet: _set, ...w }] of windows) {
    const watermark = (maxTime.get(partition) ?? -Infinity) - spec.maxOutOfOrdernessMs;
    (w.windowEnd + spec.allowedLatenessMs <= watermark ? closed : open).set(key, w);
  }
  return { closed, open, late, duplicates };
}

// ---- alerts ----------------------------------------------------------------------------------------------

/** The rule shapes the reference evaluates (the default rules' types), read from plain rule definitions. */
export interface ReferenceRule {
  id: string;
  version: number;
  type: string;
  severity: string;
  cooldownMs?: number;
  params: Record<string, unknown>;
}

export interface ExpectedAlert {
  ruleId: string;
  ruleVersion: number;
  ruleType: string;
  severity: string;
  tenantId: string;
  accountId: string;
  groupKey: string;
  eventIds: string[];
  occurredAt: number;
}

/** How alerts are matched: by rule, account and triggering event (the alert id is the system's hash of these). */
export function alertKey(a: Pick<ExpectedAlert, 'ruleId' | 'accountId' | 'eventIds'>): string {
  return `${a.ruleId}|${a.accountId}|${a.eventIds[a.eventIds.length - 1]}`;
}

const compare = (a: number, op: string, b: number): boolean => {
  switch (op) {
    case '>': return a > b;
    case '>=': return a >= b;
    case '<': return a < b;
    case '<=': return a <= b;
    case '==': return a === b;
    default: throw new Error(`the reference does not know the operator ${op}`);
  }
};

/**
 * The default rules' semantics, per partition in log order (one rule state per partition, as the alert
 * service keeps it), for one tenant's events grouped by account:
 * - threshold: fires when `field op value` (field amountUsd);
 * - aggregate count over `(t − windowMs, t]` by account: an eventId already buffered is ignored; the buffer
 *   keeps events later than (max event time − windowMs); fires when count op limit;
 * - cooldown (event time): after an alert at T, no alert of that rule for that account before T + cooldownMs.
 */
export function referenceAlerts(observed: ObservedEvent[], rules: ReferenceRule[], tenantId: string): Map<string, ExpectedAlert> {
  const alerts = new Map<string, ExpectedAlert>();
  const buffers = new Map<string, { maxT: number; entries: Array<{ id: string; t: number }> }>();
  const lastAlert = new Map<string, number>();
  const ordered = [...rules].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const { partition, event, amountUsd } of inLogOrder(observed)) {
    const groupKey = `tenantId=${encodeURIComponent(tenantId)}|accountId=${encodeURIComponent(event.accountId)}`;
    for (const rule of ordered) {
      let eventIds: string[] | undefined;
      if (rule.type === 'threshold') {
        if (rule.params.field !== 'amountUsd') throw new Error(`the reference evaluates thresholds on amountUsd only, not ${String(rule.params.field)}`);
        if (amountUsd !== null && compare(amountUsd, String(rule.params.op), Number(rule.params.value))) eventIds = [event.eventId];
      } else if (rule.type === 'aggregate') {
        const p = rule.params as { groupBy: string[]; aggregation: string; windowMs: number; op: string; limit: number };
        if (p.aggregation !== 'count' || p.groupBy.join() !== 'accountId') throw new Error(`the reference evaluates count by accountId only (rule ${rule.id})`);
        const key = `${partition}|${rule.id}|${groupKey}`;
        const buffer = buffers.get(key) ?? { maxT: event.occurredAt, entries: [] };
        if (buffer.entries.some((e) => e.id === event.eventId)) continue;
        const t = event.occurredAt;
        buffer.maxT = Math.max(buffer.maxT, t);
        buffer.entries = buffer.entries.filter((e) => e.t > buffer.maxT - p.windowMs);
        if (t > buffer.maxT - p.windowMs) buffer.entries.push({ id: event.eventId, t });
        buffers.set(key, buffer);
        const inWindow = buffer.entries.filter((e) => e.t > t - p.windowMs && e.t <= t && e.id !== event.eventId);
        if (compare(inWindow.length + 1, p.op, p.limit)) {
          // Event-time order, ties in arrival order; the triggering event last.
          eventIds = [...inWindow.map((e, i) => ({ ...e, i })).sort((a, b) => a.t - b.t || a.i - b.i).map((e) => e.id), event.eventId];
        }
      } else {
        throw new Error(`the reference does not evaluate rules of type ${rule.type} (rule ${rule.id})`);
      }
      if (eventIds === undefined) continue;
      const cooldownKey = `${partition}|${rule.id}|${groupKey}`;
      const last = lastAlert.get(cooldownKey);
      if ((rule.cooldownMs ?? 0) > 0 && last !== undefined && event.occurredAt < last + rule.cooldownMs!) continue;
      if ((rule.cooldownMs ?? 0) > 0) lastAlert.set(cooldownKey, event.occurredAt);
      const alert: ExpectedAlert = {
        ruleId: rule.id, ruleVersion: rule.version, ruleType: rule.type, severity: rule.severity, tenantId, accountId: event.accountId, groupKey,
        eventIds: eventIds.slice(-100), occurredAt: event.occurredAt,
      };
      alerts.set(alertKey(alert), alert);
    }
  }
  return alerts;
}
