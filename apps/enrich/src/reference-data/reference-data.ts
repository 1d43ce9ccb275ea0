import type { AccountProfile, BlocklistHit, BlocklistKind, MerchantProfile } from '@streamguard/common';
import type { AccountRef } from './reference-change';

/**
 * Port: batched reads of reference data. One call per consumer batch, never one per event.
 *
 * Accounts are a tenant's own data: a profile is found by (tenant, account) only, so one tenant's events are
 * never enriched with another tenant's account that happens to have the same id. Merchants, FX rates and the
 * blocklist are platform data shared by all tenants.
 */
export interface ReferenceDataReader {
  /** Profiles by `accountKey(tenantId, accountId)`; absent accounts are absent from the map. */
  accounts(refs: AccountRef[]): Promise<Map<string, AccountProfile>>;
  merchants(ids: string[]): Promise<Map<string, MerchantProfile>>;
  /** USD value of one unit of each currency. */
  fxRates(): Promise<Map<string, number>>;
  blocklistHits(candidates: Array<{ kind: BlocklistKind; value: string }>): Promise<BlocklistHit[]>;
}

export interface ReferenceSnapshot {
  /** By `accountKey(tenantId, accountId)`. */
  accounts: Map<string, AccountProfile>;
  merchants: Map<string, MerchantProfile>;
  fxRates: Map<string, number>;
  blocklist: Map<string, BlocklistHit>;
}

/** Map key of one tenant's account (NUL cannot occur in a tenant id). */
export function accountKey(tenantId: string, accountId: string): string {
  return `${tenantId}\u0000${accountId}`;
}

export function blocklistKey(kind: BlocklistKind, value: string): string {
  return `${kind}\u0000${value}`;
}
