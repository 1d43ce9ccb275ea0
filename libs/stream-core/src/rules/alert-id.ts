import { createHash } from 'node:crypto';

/**
 * Deterministic alert id: the first 32 hex characters (128 bits) of
 * sha256(JSON.stringify([ruleKey, ruleVersion, groupKey, triggeringEventId])). The engine passes the rule's
 * ruleKey (rule-key.ts: the id of a global rule, `<id>@<tenant>` of a tenant rule), so two tenants' rules with the same
 * id, or a tenant rule and a global rule with the same id, never share an alert id.
 * The JSON array encoding keeps the parts unambiguous ("a"+"bc" vs "ab"+"c"). A rule fires at most once per
 * event, so replaying the same input yields the same ids and downstream inserts can be idempotent
 * (`ON CONFLICT (alert_id) DO NOTHING`).
 */
export function computeAlertId(ruleKey: string, ruleVersion: number, groupKey: string, eventId: string): string {
  return createHash('sha256').update(JSON.stringify([ruleKey, ruleVersion, groupKey, eventId])).digest('hex').slice(0, 32);
}
