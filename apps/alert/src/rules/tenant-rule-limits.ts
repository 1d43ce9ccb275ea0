/**
 * Resource limits of tenant rules. A tenant's admin is not trusted with the shared alert partitions: every
 * tenant's events are evaluated on the same partitions, so the state a tenant's rules keep there is bounded.
 * Global rules (created by the platform admin) are not limited beyond rule validation.
 *
 * - At most `maxRulesPerTenant` rules per tenant (active and paused: paused rules keep their state).
 * - `windowMs` (aggregate) and `withinMs` (sequence) at most `tenantMaxWindowMs`: they bound how much of the
 *   tenant's stream one group keeps buffered.
 * - No `groupBy` on `eventId`: every event would be a group of its own, so the rule could never see two events
 *   together and would only keep one state record per event for the whole state retention.
 *
 * Other state is bounded by the tenant's own traffic (rate-limited per API key) times its rule count.
 */
import type { RuleDefinition, RuleValidationError } from '@streamguard/stream-core';

export interface TenantRuleLimits {
  maxRulesPerTenant: number;
  tenantMaxWindowMs: number;
}

export const TENANT_RULE_LIMITS = Symbol('TenantRuleLimits');

/** Fields whose every value is (nearly) unique per event: grouping by one keeps a record per event. */
const PER_EVENT_FIELDS = new Set(['eventId']);

/** What in a tenant rule exceeds the limits (empty: within them); paths as in rule validation errors. */
export function tenantRuleLimitErrors(rule: RuleDefinition, limits: TenantRuleLimits): RuleValidationError[] {
  const errors: RuleValidationError[] = [];
  const duration = (path: string, value: number) => {
    if (value > limits.tenantMaxWindowMs) {
      errors.push({ path, message: `must be at most ${limits.tenantMaxWindowMs} ms (${formatDuration(limits.tenantMaxWindowMs)}) in a tenant rule` });
    }
  };
  if (rule.type === 'aggregate') duration('$.params.windowMs', rule.params.windowMs);
  if (rule.type === 'sequence') duration('$.params.withinMs', rule.params.withinMs);
  const groupBy = (rule.params as { groupBy?: string[] }).groupBy ?? [];
  groupBy.forEach((field, i) => {
    if (PER_EVENT_FIELDS.has(field)) {
      errors.push({ path: `$.params.groupBy[${i}]`, message: `must not be "${field}" in a tenant rule: every event would be its own group` });
    }
  });
  return errors;
}

function formatDuration(ms: number): string {
  const units: Array<[number, string]> = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'min'], [1_000, 's']];
  const [size, unit] = units.find(([size]) => ms % size === 0 && ms >= size) ?? [1, 'ms'];
  return `${ms / size} ${unit}`;
}
