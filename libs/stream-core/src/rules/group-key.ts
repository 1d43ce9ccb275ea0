import { TENANT_FIELD } from '../tenancy/tenant-scope';
import { fitsGroupKeyLimit } from '../windowing/record-fields';
import { getFieldValue } from './filters';
import type { RuleEvent } from './rule-definition';

/**
 * The group of rules without a `groupBy` (threshold, list, impossible-travel; anomaly/sequence by default): the
 * account within its tenant. Account ids are only unique within a tenant, so the tenant comes first: two tenants'
 * `acc-1` never share state, a cooldown or an alert id (`tenantId=acme|accountId=acc-1`).
 */
export const ACCOUNT_GROUP: readonly string[] = [TENANT_FIELD, 'accountId'];

/**
 * The group key of an event: `field=value` pairs joined by `|`, in `groupBy` order, e.g.
 * `tenantId=acme|accountId=acc-1` or `tenantId=acme|accountId=acc-1|merchantId=m-9`. Values are stringified and percent-encoded (encodeURIComponent), so `:`, `|`
 * and `=` inside values cannot make two different groups collide or break the state-key layout.
 * Returns `undefined` (the rule ignores the event) when a field is missing, null, or not a string/number/boolean,
 * or when the key is longer than MAX_GROUP_KEY_BYTES (it is part of Postgres keys of the rule's state).
 */
export function groupKeyOf(event: RuleEvent, groupBy: readonly string[]): string | undefined {
  const parts: string[] = [];
  for (const field of groupBy) {
    const value = getFieldValue(event, field);
    if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
      parts.push(`${field}=${encodeURIComponent(String(value))}`);
    } else {
      return undefined;
    }
  }
  const key = parts.join('|');
  return fitsGroupKeyLimit(key) ? key : undefined;
}
