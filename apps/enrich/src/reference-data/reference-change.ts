/**
 * Change notifications of the reference tables. The `0002_reference_data` triggers send
 * `<table>:<key>` on channel `streamguard_reference` for every write (`<table>:*` for big statements and
 * TRUNCATE), whoever the writer is; enrich instances drop the matching cache entries.
 *
 * Accounts are per tenant (`0007_tenant_accounts_and_rule_scopes`): their key is `<tenant>:<account>`.
 * Tenant ids contain no `:`, so the first `:` of the key ends the tenant and the account id may contain any.
 */
import { TENANT_ID_PATTERN } from '@streamguard/common';

export const REFERENCE_CHANNEL = 'streamguard_reference';

export const REFERENCE_TABLES = ['accounts', 'merchants', 'fx_rates', 'blocklist'] as const;
export type ReferenceTable = (typeof REFERENCE_TABLES)[number];

/** One tenant's account: account ids are unique within a tenant only. */
export interface AccountRef {
  tenantId: string;
  accountId: string;
}

export type ReferenceChange =
  /** `account`: the changed account; null: any account of any tenant may have changed. */
  | { table: 'accounts'; account: AccountRef | null }
  /** `key`: the changed row's key (blocklist: `kind:value`); null: any row of the table may have changed. */
  | { table: Exclude<ReferenceTable, 'accounts'>; key: string | null };

/** Parses a notification payload; undefined for anything unexpected (the caller then forgets everything). */
export function parseReferenceChange(payload: string | undefined): ReferenceChange | undefined {
  if (!payload) return undefined;
  const separator = payload.indexOf(':');
  if (separator <= 0) return undefined;
  const table = payload.slice(0, separator);
  const key = payload.slice(separator + 1);
  if (!(REFERENCE_TABLES as readonly string[]).includes(table) || key === '') return undefined;
  if (table === 'accounts') {
    if (key === '*') return { table, account: null };
    const account = parseAccountKey(key);
    return account ? { table, account } : undefined;
  }
  return { table: table as Exclude<ReferenceTable, 'accounts'>, key: key === '*' ? null : key };
}

/** `<tenant>:<account>`; undefined without a valid tenant or without an account id. */
function parseAccountKey(key: string): AccountRef | undefined {
  const separator = key.indexOf(':');
  if (separator < 0) return undefined;
  const tenantId = key.slice(0, separator);
  const accountId = key.slice(separator + 1);
  if (!TENANT_ID_PATTERN.test(tenantId) || accountId === '') return undefined;
  return { tenantId, accountId };
}
