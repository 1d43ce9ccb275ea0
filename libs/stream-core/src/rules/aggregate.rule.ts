import { compareValues, getFieldValue, isPresent } from './filters';
import { formatDuration, formatNumber, lastIds } from './format';
import { groupKeyOf } from './group-key';
import type { RuleContext, RuleFiring, StoredRecord } from './rule-context';
import type { AggregateRule, RuleEvent, RuleScalar } from './rule-definition';

/** [eventId, eventTime, field value (null for count)]. Tuples keep the JSON small. */
export type AggregateEntry = [string, number, RuleScalar | null];

/** Stored per (rule, version, group key): `t` = max event time seen, `e` = retained entries sorted by (time, id). */
export interface AggregateState extends StoredRecord {
  e: AggregateEntry[];
}

const before = (a: AggregateEntry, b: AggregateEntry): boolean => a[1] < b[1] || (a[1] === b[1] && a[0] < b[0]);

/** Inserts into a (time, id)-sorted copy; the order makes sums independent of arrival order. */
function insertSorted(entries: readonly AggregateEntry[], entry: AggregateEntry): AggregateEntry[] {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(entries[mid], entry)) lo = mid + 1;
    else hi = mid;
  }
  return [...entries.slice(0, lo), entry, ...entries.slice(lo)];
}

/** The value this event contributes, or undefined when the rule ignores the event. */
function contribution(rule: AggregateRule, event: RuleEvent): RuleScalar | null | undefined {
  const { aggregation, field } = rule.params;
  if (field === undefined) return null; // count without a field: every event counts
  const raw = getFieldValue(event, field);
  if (aggregation === 'count') return isPresent(raw) ? null : undefined;
  if (aggregation === 'countDistinct') {
    return typeof raw === 'string' || typeof raw === 'boolean' || (typeof raw === 'number' && Number.isFinite(raw)) ? raw : undefined;
  }
  return typeof raw === 'number' && Number.isFinite(raw) ? raw : undefined;
}

function aggregate(rule: AggregateRule, window: readonly AggregateEntry[]): number {
  const values = window.map((e) => e[2]);
  switch (rule.params.aggregation) {
    case 'count':
      return window.length;
    case 'countDistinct':
      // Type-tagged so the string "1" and the number 1 are distinct values.
      return new Set(values.map((v) => JSON.stringify(v))).size;
    case 'sum':
    case 'avg': {
      let sum = 0;
      for (const v of values) sum += v as number; // fixed (time, id) order: float sums are reproducible
      return rule.params.aggregation === 'sum' ? sum : sum / window.length;
    }
    case 'min':
      return (values as number[]).reduce((a, b) => (b < a ? b : a)); // no spread: buffers can be large
    case 'max':
      return (values as number[]).reduce((a, b) => (b > a ? b : a));
  }
}

/**
 * Aggregate over an event-time lookback, evaluated on every considered event with event time t over the key's
 * retained events with eventTime in (t - windowMs, t] (the current event always included).
 *
 * - Considered events: those passing the filters whose group-by fields are present scalars and, except for
 *   `count` without `field`, whose `field` is a finite number (sum/avg/min/max), a scalar (countDistinct) or
 *   present (count with field). Others are ignored and leave no state.
 * - Duplicates: an event whose eventId is still in the key's buffer is ignored (no state change, no alert).
 * - Late events: included in later evaluations while in range. The buffer keeps entries with
 *   eventTime > maxT - windowMs, maxT being the max event time seen for the key; an event older than that is
 *   evaluated (it counts itself) but not retained. At most `maxBufferedEventsPerKey` entries are kept (oldest
 *   dropped first).
 * - Fires on every considered event for which `aggregation op limit` holds (not only on crossing); use
 *   `cooldownMs` to alert once per burst.
 * - eventIds: the window's events in event-time order, triggering event last, capped to the most recent
 *   `maxEventIdsPerAlert` (observed.count always has the full count).
 */
export function evaluateAggregateRule(rule: AggregateRule, event: RuleEvent, ctx: RuleContext): RuleFiring | undefined {
  const p = rule.params;
  const groupKey = groupKeyOf(event, p.groupBy);
  if (groupKey === undefined) return undefined;
  const value = contribution(rule, event);
  if (value === undefined) return undefined;

  const key = ctx.stateKey(rule, groupKey, 'agg');
  const prev = ctx.read<AggregateState>(key);
  const entries = prev?.e ?? [];
  if (entries.some((e) => e[0] === event.eventId)) return undefined;

  const t = event.eventTime;
  const maxT = prev === undefined ? t : Math.max(prev.t, t);
  const horizon = maxT - p.windowMs;
  const current: AggregateEntry = [event.eventId, t, value];
  let kept = entries.filter((e) => e[1] > horizon);
  if (t > horizon) kept = insertSorted(kept, current);
  if (kept.length > ctx.maxBufferedEventsPerKey) kept = kept.slice(kept.length - ctx.maxBufferedEventsPerKey);
  ctx.write(key, { t: maxT, e: kept } satisfies AggregateState);

  const from = t - p.windowMs;
  let window = kept.filter((e) => e[1] > from && e[1] <= t);
  if (!window.some((e) => e[0] === event.eventId)) window = insertSorted(window, current);
  const result = aggregate(rule, window);
  if (!compareValues(result, p.op, p.limit)) return undefined;

  const ids = window.filter((e) => e[0] !== event.eventId).map((e) => e[0]);
  ids.push(event.eventId);
  const span = formatDuration(p.windowMs);
  const limit = `(limit ${p.op} ${formatNumber(p.limit)})`;
  let summary: string;
  if (p.aggregation === 'count') {
    summary = `${result} transaction${result === 1 ? '' : 's'} in ${span} for ${groupKey} ${limit}`;
  } else if (p.aggregation === 'countDistinct') {
    summary = `${result} distinct ${p.field} value${result === 1 ? '' : 's'} in ${span} for ${groupKey} ${limit}`;
  } else {
    summary = `${p.aggregation}(${p.field}) = ${formatNumber(result)} over ${window.length} transaction${window.length === 1 ? '' : 's'} in ${span} for ${groupKey} ${limit}`;
  }
  return {
    groupKey,
    eventIds: lastIds(ids, ctx.maxEventIdsPerAlert),
    summary,
    observed: {
      aggregation: p.aggregation,
      ...(p.field === undefined ? {} : { field: p.field }),
      value: result,
      count: window.length,
      windowStart: from,
      windowEnd: t,
    },
  };
}
