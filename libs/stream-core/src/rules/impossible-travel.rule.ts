import { formatDuration, formatNumber } from './format';
import { haversineKm, readLocation } from './geo';
import { ACCOUNT_GROUP, groupKeyOf } from './group-key';
import type { RuleContext, RuleFiring, StoredRecord } from './rule-context';
import type { ImpossibleTravelRule, RuleEvent } from './rule-definition';

/** [eventId, eventTime, lat, lon]. */
export type TravelPoint = [string, number, number, number];

/** Stored per (rule, version, tenant + account): the latest located events, sorted by event time (ties: arrival order). */
export interface TravelState extends StoredRecord {
  p: TravelPoint[];
}

/**
 * How many located events are kept per account. Only the latest is needed for in-order streams; the rest let a
 * late event find its true predecessor in event time.
 */
export const TRAVEL_HISTORY_SIZE = 16;

const MS_PER_HOUR = 3_600_000;

/**
 * Impossible travel, per account within its tenant (ACCOUNT_GROUP). Considers events with a valid
 * `value.location` {lat, lon}. The predecessor is the latest retained located event with eventTime <= t (among equal times, the one processed last);
 * distance is haversine km, speed = km / (dt in hours). Fires when km >= minKm AND speed > maxKmh. dt = 0 with
 * km > 0 is an infinite speed (fires when km >= minKm; observed.speedKmh is null); km = 0 is speed 0.
 * A late event is only compared with its predecessor, not with its successor. A duplicate eventId still in
 * the history is ignored.
 */
export function evaluateImpossibleTravelRule(rule: ImpossibleTravelRule, event: RuleEvent, ctx: RuleContext): RuleFiring | undefined {
  const location = readLocation(event.value.location);
  if (location === undefined) return undefined;
  const groupKey = groupKeyOf(event, ACCOUNT_GROUP);
  if (groupKey === undefined) return undefined;
  const key = ctx.stateKey(rule, groupKey, 'loc');
  const prev = ctx.read<TravelState>(key);
  const points = prev?.p ?? [];
  if (points.some((p) => p[0] === event.eventId)) return undefined;

  const t = event.eventTime;
  // Insert after every point with time <= t: the predecessor is the point just before the insertion index.
  let index = points.length;
  while (index > 0 && points[index - 1][1] > t) index--;
  const predecessor = index > 0 ? points[index - 1] : undefined;
  let next = [...points.slice(0, index), [event.eventId, t, location.lat, location.lon] as TravelPoint, ...points.slice(index)];
  if (next.length > TRAVEL_HISTORY_SIZE) next = next.slice(next.length - TRAVEL_HISTORY_SIZE);
  ctx.write(key, { t: prev === undefined ? t : Math.max(prev.t, t), p: next } satisfies TravelState);

  if (predecessor === undefined) return undefined;
  const [fromId, fromTime, lat, lon] = predecessor;
  const km = haversineKm({ lat, lon }, location);
  const elapsedMs = t - fromTime;
  const speed = km === 0 ? 0 : elapsedMs === 0 ? Number.POSITIVE_INFINITY : km / (elapsedMs / MS_PER_HOUR);
  const { maxKmh, minKm } = rule.params;
  if (!(km >= minKm && speed > maxKmh)) return undefined;

  const speedText = Number.isFinite(speed) ? `${formatNumber(speed)} km/h` : 'at the same instant';
  return {
    groupKey,
    eventIds: [fromId, event.eventId],
    summary:
      `${formatNumber(km)} km in ${elapsedMs === 0 ? '0s' : formatDuration(elapsedMs)} (${speedText}) between ${fromId} and ` +
      `${event.eventId} for ${groupKey} (limit > ${formatNumber(maxKmh)} km/h, min ${formatNumber(minKm)} km)`,
    observed: {
      distanceKm: km,
      elapsedMs,
      // JSON has no Infinity: null means both events happened at the same instant.
      speedKmh: Number.isFinite(speed) ? speed : null,
      from: { eventId: fromId, eventTime: fromTime, lat, lon },
      to: { eventId: event.eventId, eventTime: t, lat: location.lat, lon: location.lon },
    },
  };
}
