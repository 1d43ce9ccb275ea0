import { getFieldValue } from './filters';
import { formatNumber } from './format';
import { ACCOUNT_GROUP, groupKeyOf } from './group-key';
import type { RuleContext, RuleFiring, StoredRecord } from './rule-context';
import type { AnomalyRule, RuleEvent } from './rule-definition';

/** Welford accumulator per (rule, version, group key). `r` = recent eventIds, for duplicate detection. */
export interface AnomalyState extends StoredRecord {
  n: number;
  mean: number;
  m2: number;
  r: string[];
}

export const DEFAULT_ANOMALY_FIELD = 'amountUsd';
/** Duplicate detection window for anomaly rules: redeliveries arrive close together. */
export const ANOMALY_RECENT_IDS = 16;

/**
 * Anomaly (z-score), per group key (default ACCOUNT_GROUP: tenantId + accountId) on `field` (default amountUsd),
 * for events whose field is a finite number. With n, mean and population std = sqrt(M2 / n) of the history BEFORE this event (in
 * processing order), it fires when n >= minEvents AND std > 0 AND |x - mean| / std > zScore (strictly). A
 * constant history (std = 0) never fires: the z-score is undefined there, so pair with a threshold rule for
 * absolute limits. The event is then added to the history whether or not it fired (Welford's update).
 * An eventId among the key's last 16 is a duplicate and ignored.
 */
export function evaluateAnomalyRule(rule: AnomalyRule, event: RuleEvent, ctx: RuleContext): RuleFiring | undefined {
  const p = rule.params;
  const field = p.field ?? DEFAULT_ANOMALY_FIELD;
  const x = getFieldValue(event, field);
  if (typeof x !== 'number' || !Number.isFinite(x)) return undefined;
  const groupKey = groupKeyOf(event, p.groupBy ?? ACCOUNT_GROUP);
  if (groupKey === undefined) return undefined;

  const key = ctx.stateKey(rule, groupKey, 'stats');
  const prev = ctx.read<AnomalyState>(key) ?? { t: event.eventTime, n: 0, mean: 0, m2: 0, r: [] };
  if (prev.r.includes(event.eventId)) return undefined;

  const { n, mean, m2 } = prev;
  const std = n > 0 ? Math.sqrt(m2 / n) : 0;
  const z = std > 0 ? Math.abs(x - mean) / std : 0;
  const fires = n >= p.minEvents && std > 0 && z > p.zScore;

  const n1 = n + 1;
  const delta = x - mean;
  const mean1 = mean + delta / n1;
  const recent = [...prev.r, event.eventId];
  ctx.write(key, {
    t: Math.max(prev.t, event.eventTime),
    n: n1,
    mean: mean1,
    m2: m2 + delta * (x - mean1),
    r: recent.length > ANOMALY_RECENT_IDS ? recent.slice(recent.length - ANOMALY_RECENT_IDS) : recent,
  } satisfies AnomalyState);

  if (!fires) return undefined;
  return {
    groupKey,
    eventIds: [event.eventId],
    summary:
      `${field} = ${formatNumber(x)} is ${formatNumber(z)} standard deviations from the mean ${formatNumber(mean)} ` +
      `(std ${formatNumber(std)}, ${n} prior transactions) for ${groupKey} (limit > ${formatNumber(p.zScore)})`,
    observed: { field, value: x, mean, std, zScore: z, count: n },
  };
}
