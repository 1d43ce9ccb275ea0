import { matchesAll } from './filters';
import { formatDuration } from './format';
import { ACCOUNT_GROUP, groupKeyOf } from './group-key';
import type { RuleContext, RuleFiring, StoredRecord } from './rule-context';
import type { RuleEvent, SequenceRule } from './rule-definition';

/** [eventId, eventTime] of a pending `first` event. */
export type PendingFirst = [string, number];

/** Stored per (rule, version, group key): `t` = max event time seen, `p` = pending firsts sorted by (time, arrival). */
export interface SequenceState extends StoredRecord {
  p: PendingFirst[];
}

/**
 * Sequence, per group key (default ACCOUNT_GROUP: tenantId + accountId): an event matching `then` whose time t
 * is in [firstTime, firstTime + withinMs] (both ends inclusive, so equal times match) of a pending event matching
 * `first` fires, pairing with the EARLIEST such pending first and consuming it (that first cannot pair again;
 * other pending firsts stay). At most one alert per `then` event.
 * - An event matching both lists is first tried as `then` (against earlier firsts, never itself), then
 *   becomes a pending first.
 * - Order of processing matters: a `first` processed after its `then` does not match (then events are not buffered).
 * - Pending firsts with time < maxT - withinMs (maxT = max event time of the key's first/then events) are
 *   evicted; at most `maxBufferedEventsPerKey` are kept (oldest dropped). A pending first's eventId arriving again
 *   is a duplicate and ignored.
 * - Consumption is state, independent of cooldown: a match suppressed by cooldown still consumes its first.
 */
export function evaluateSequenceRule(rule: SequenceRule, event: RuleEvent, ctx: RuleContext): RuleFiring | undefined {
  const p = rule.params;
  const isThen = matchesAll(event, p.then);
  const isFirst = matchesAll(event, p.first);
  if (!isThen && !isFirst) return undefined;
  const groupKey = groupKeyOf(event, p.groupBy ?? ACCOUNT_GROUP);
  if (groupKey === undefined) return undefined;

  const key = ctx.stateKey(rule, groupKey, 'seq');
  const prev = ctx.read<SequenceState>(key);
  if (prev?.p.some((f) => f[0] === event.eventId)) return undefined;

  const t = event.eventTime;
  const maxT = prev === undefined ? t : Math.max(prev.t, t);
  const horizon = maxT - p.withinMs;
  let pending = (prev?.p ?? []).filter((f) => f[1] >= horizon);

  let matched: PendingFirst | undefined;
  if (isThen) {
    matched = pending.find((f) => f[1] <= t && t <= f[1] + p.withinMs);
    if (matched !== undefined) pending = pending.filter((f) => f !== matched);
  }
  if (isFirst && t >= horizon) {
    let index = pending.length;
    while (index > 0 && pending[index - 1][1] > t) index--;
    pending = [...pending.slice(0, index), [event.eventId, t], ...pending.slice(index)];
    if (pending.length > ctx.maxBufferedEventsPerKey) pending = pending.slice(pending.length - ctx.maxBufferedEventsPerKey);
  }
  ctx.write(key, { t: maxT, p: pending } satisfies SequenceState);

  if (matched === undefined) return undefined;
  const [firstId, firstTime] = matched;
  const gap = t - firstTime;
  return {
    groupKey,
    eventIds: [firstId, event.eventId],
    summary:
      `${event.eventId} matched "then" ${gap === 0 ? 'at the same time as' : `${formatDuration(gap)} after`} ${firstId} matched ` +
      `"first" for ${groupKey} (within ${formatDuration(p.withinMs)})`,
    observed: { firstEventId: firstId, firstEventTime: firstTime, thenEventId: event.eventId, thenEventTime: t, elapsedMs: gap },
  };
}
