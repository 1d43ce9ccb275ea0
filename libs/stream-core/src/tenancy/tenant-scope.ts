/**
 * Tenant isolation of stream state. Event ids and account ids are only unique within a tenant, so every
 * piece of keyed state (a window, a rule's buffer, a cooldown, a dedup entry) must be keyed by the tenant too:
 *
 * - window definitions and rules with a `groupBy` get `tenantId` as their first group-by field
 *   ({@link tenantScopedWindowDefinition}, {@link tenantScopedRule}), so group keys read `acme|acc-1`
 *   (windows) and `tenantId=acme|accountId=acc-1` (rules), and a window's `group` carries `tenantId`;
 * - rules without a `groupBy` use the engine's default group, which starts with `tenantId` already;
 * - window dedup uses {@link tenantDedupKey} instead of the bare eventId;
 * - rule ids are unique per owner only, so the rule engine keys a rule's state and alert ids by its rule key
 *   (`<id>@<tenant>` for a tenant rule, see rules/rule-key.ts), never by the bare id.
 *
 * The services apply these before handing definitions and records to the operators; the operators
 * themselves stay tenant-agnostic.
 */
import type { RuleDefinition } from '../rules/rule-definition';
import type { WindowDefinition } from '../windowing/window-definition';

/** The field (of an enriched event, and of a RuleEvent) that names the event's tenant. */
export const TENANT_FIELD = 'tenantId';

/** `groupBy` with `tenantId` as its first entry (moved there if it appears later; never repeated). */
export function tenantScopedGroupBy(groupBy: readonly string[]): string[] {
  return [TENANT_FIELD, ...groupBy.filter((field) => field !== TENANT_FIELD)];
}

export function tenantScopedWindowDefinition(definition: WindowDefinition): WindowDefinition {
  return { ...definition, groupBy: tenantScopedGroupBy(definition.groupBy) };
}

/**
 * The rule as the engine must run it in a multi-tenant deployment: an explicit `groupBy` gets `tenantId`
 * first. Rules without one (threshold, list, impossible-travel, and anomaly/sequence by default) are
 * returned unchanged: their default group is already `['tenantId', 'accountId']`.
 */
export function tenantScopedRule<R extends RuleDefinition>(rule: R): R {
  const params = rule.params as { groupBy?: string[] };
  if (params.groupBy === undefined) return rule;
  return { ...rule, params: { ...rule.params, groupBy: tenantScopedGroupBy(params.groupBy) } };
}

/** Window dedup key of an event: two tenants may both send eventId `e-1`, and neither may hide the other's. */
export function tenantDedupKey(tenantId: string, eventId: string): string {
  return `${encodeURIComponent(tenantId)}/${eventId}`;
}
