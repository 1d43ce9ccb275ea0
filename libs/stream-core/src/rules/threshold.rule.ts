import { compareValues, getFieldValue, isPresent } from './filters';
import { formatNumber } from './format';
import { ACCOUNT_GROUP, groupKeyOf } from './group-key';
import type { RuleFiring } from './rule-context';
import type { RuleEvent, ThresholdRule } from './rule-definition';

/**
 * Threshold: fires on every event whose `params.field` satisfies `op value` (no type coercion; a missing field
 * never fires). Stateless apart from the cooldown; grouped by tenantId + accountId (ACCOUNT_GROUP).
 */
export function evaluateThresholdRule(rule: ThresholdRule, event: RuleEvent): RuleFiring | undefined {
  const { field, op, value } = rule.params;
  const actual = getFieldValue(event, field);
  if (!isPresent(actual) || !compareValues(actual, op, value)) return undefined;
  const groupKey = groupKeyOf(event, ACCOUNT_GROUP);
  if (groupKey === undefined) return undefined;
  const shown = typeof actual === 'number' ? formatNumber(actual) : JSON.stringify(actual);
  return {
    groupKey,
    eventIds: [event.eventId],
    summary: `${field} = ${shown} for ${groupKey} (limit ${op} ${typeof value === 'number' ? formatNumber(value) : JSON.stringify(value)})`,
    observed: { field, value: actual },
  };
}
