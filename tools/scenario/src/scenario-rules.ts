/**
 * Rules the scenario plants patterns for: one per rule type beyond the two seeded defaults (`large-amount`
 * threshold, `velocity-1m` aggregate). With a `tag`, rule ids get the tag as suffix and every rule only
 * considers events whose `attributes.scenario` equals the tag, so concurrent runs cannot see each other.
 */
import type { RuleDefinition } from '@streamguard/stream-core';

export function scenarioRules(tag?: string): RuleDefinition[] {
  const id = (name: string) => (tag ? `${name}-${tag}`.toLowerCase().slice(0, 64) : name);
  const filters = tag ? [{ field: 'attributes.scenario', op: '==' as const, value: tag }] : [];
  return [
    {
      id: id('card-testing'), version: 1, name: 'Card testing', severity: 'high', status: 'active', cooldownMs: 600_000,
      description: 'More than 4 distinct merchants with amounts under 5 USD within 10 minutes.',
      type: 'aggregate', filters: [...filters, { field: 'amountUsd', op: '<', value: 5 }],
      params: { groupBy: ['accountId'], aggregation: 'countDistinct', field: 'merchantId', windowMs: 600_000, op: '>', limit: 4 },
    },
    {
      id: id('impossible-travel'), version: 1, name: 'Impossible travel', severity: 'high', status: 'active', filters,
      type: 'impossible-travel', params: { maxKmh: 900, minKm: 500 },
    },
    {
      id: id('amount-anomaly'), version: 1, name: 'Amount anomaly', severity: 'medium', status: 'active', filters,
      type: 'anomaly', params: { field: 'amountUsd', zScore: 6, minEvents: 10 },
    },
    {
      id: id('probe-then-spend'), version: 1, name: 'Probe then spend', severity: 'high', status: 'active', filters,
      description: 'An amount under 1 USD followed by one over 500 USD within a minute.',
      type: 'sequence', params: { first: [{ field: 'amountUsd', op: '<', value: 1 }], then: [{ field: 'amountUsd', op: '>', value: 500 }], withinMs: 60_000 },
    },
    {
      id: id('blocklisted'), version: 1, name: 'Blocklist hit', severity: 'critical', status: 'active', filters,
      type: 'list', params: { kinds: ['merchant', 'card', 'device', 'ip', 'country'] },
    },
  ];
}
