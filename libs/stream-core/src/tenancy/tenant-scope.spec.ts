import { DEFAULT_RULES } from '../rules/default-rules';
import { validateRule } from '../rules/rule-definition';
import { aggregateRule, anomalyRule, listRule, sequenceRule, thresholdRule, travelRule } from '../rules/test/fixtures';
import { parseWindowDefinitions } from '../windowing/window-definition';
import { tenantDedupKey, tenantScopedGroupBy, tenantScopedRule, tenantScopedWindowDefinition } from './tenant-scope';

describe('tenantScopedGroupBy', () => {
  it.each([
    [['accountId'], ['tenantId', 'accountId']],
    [['accountId', 'merchantId'], ['tenantId', 'accountId', 'merchantId']],
    [['tenantId', 'accountId'], ['tenantId', 'accountId']],
    [['accountId', 'tenantId'], ['tenantId', 'accountId']],
    [['tenantId'], ['tenantId']],
  ])('%j → %j', (groupBy, expected) => {
    expect(tenantScopedGroupBy(groupBy)).toEqual(expected);
  });
});

describe('tenantScopedRule', () => {
  it('puts tenantId first in an explicit groupBy and leaves everything else as it was', () => {
    const rule = aggregateRule({ groupBy: ['accountId', 'merchantId'] }, { tenantId: 'acme', cooldownMs: 5 });
    expect(tenantScopedRule(rule)).toEqual({ ...rule, params: { ...rule.params, groupBy: ['tenantId', 'accountId', 'merchantId'] } });
    expect(rule.params.groupBy).toEqual(['accountId', 'merchantId']); // not mutated
    expect(tenantScopedRule(anomalyRule({ groupBy: ['cardId'] })).params.groupBy).toEqual(['tenantId', 'cardId']);
    expect(tenantScopedRule(sequenceRule({ groupBy: ['cardId'] })).params.groupBy).toEqual(['tenantId', 'cardId']);
  });

  it('returns rules without groupBy unchanged: their default group starts with tenantId already', () => {
    for (const rule of [thresholdRule({ field: 'a', op: '>', value: 1 }), travelRule(), listRule(), anomalyRule(), sequenceRule()]) {
      expect(tenantScopedRule(rule)).toBe(rule);
    }
  });

  it('keeps every seed rule valid', () => {
    for (const rule of DEFAULT_RULES) expect(validateRule(tenantScopedRule(rule)).ok).toBe(true);
  });
});

describe('tenantScopedWindowDefinition', () => {
  it('puts tenantId first in groupBy', () => {
    const [definition] = parseWindowDefinitions([{ name: 'account-1m', groupBy: ['accountId'], window: { type: 'tumbling', sizeMs: 60_000 }, aggregations: [] }]);
    expect(tenantScopedWindowDefinition(definition)).toEqual({ ...definition, groupBy: ['tenantId', 'accountId'] });
  });
});

describe('tenantDedupKey', () => {
  it('separates tenants and cannot be forged by an event id containing the separator', () => {
    expect(tenantDedupKey('acme', 'e-1')).not.toBe(tenantDedupKey('globex', 'e-1'));
    expect(tenantDedupKey('a', 'b/c')).not.toBe(tenantDedupKey('a/b', 'c'));
  });
});
