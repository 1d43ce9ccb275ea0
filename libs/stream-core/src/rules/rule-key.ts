import type { RuleDefinition } from './rule-definition';

/**
 * The engine's identity of a rule. Rule ids are unique per owner only: two tenants may both have a rule
 * `velocity`, and (though the alert service refuses it) a tenant rule may share its id with a global rule. So
 * everything the engine keys by rule (state keys, the duplicate check and stale-state cleanup of `setRules`, the
 * alert id, per-rule metric labels) uses this key, never the bare id:
 *
 * - a global rule: its id (`velocity`), the same key and alert ids it had before tenants existed;
 * - a tenant rule: `<id>@<tenant>` with the tenant percent-encoded (`velocity@acme`).
 *
 * Rule ids contain no `@` or `:`, and encodeURIComponent encodes both, so no two rules share a key, a key never
 * starts with `_` (the engine's own records), and state keys (`<ruleKey>:<version>:…`) still split on `:`.
 */
export function ruleKey(rule: Pick<RuleDefinition, 'id' | 'tenantId'>): string {
  return rule.tenantId === undefined ? rule.id : `${rule.id}@${encodeURIComponent(rule.tenantId)}`;
}
