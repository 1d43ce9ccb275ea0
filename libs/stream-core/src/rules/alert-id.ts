import { createHash } from 'node:crypto';

/**
 * Deterministic alert id: the first 32 hex characters (128 bits) of
 * sha256(JSON.stringify([ruleId, ruleVersion, groupKey, triggeringEventId])).
 * The JSON array encoding keeps the parts unambiguous ("a"+"bc" vs "ab"+"c"). A rule fires at most once per
 * event, so replaying the same input yields the same ids and downstream inserts can be idempotent
 * (`ON CONFLICT (alert_id) DO NOTHING`).
 */
export function computeAlertId(ruleId: string, ruleVersion: number, groupKey: string, eventId: string): string {
  return createHash('sha256').update(JSON.stringify([ruleId, ruleVersion, groupKey, eventId])).digest('hex').slice(0, 32);
}
