import type { AccountProfile, BlocklistHit, BlocklistKind, MerchantProfile } from '@streamguard/common';

/** Port: batched reads of reference data. One call per consumer batch, never one per event. */
export interface ReferenceDataReader {
  accounts(ids: string[]): Promise<Map<string, AccountProfile>>;
  merchants(ids: string[]): Promise<Map<string, MerchantProfile>>;
  /** USD value of one unit of each currency. */
  fxRates(): Promise<Map<string, number>>;
  blocklistHits(candidates: Array<{ kind: BlocklistKind; value: string }>): Promise<BlocklistHit[]>;
}

export interface ReferenceSnapshot {
  accounts: Map<string, AccountProfile>;
  merchants: Map<string, MerchantProfile>;
  fxRates: Map<string, number>;
  blocklist: Map<string, BlocklistHit>;
}

export function blocklistKey(kind: BlocklistKind, value: string): string {
  return `${kind}\u0000${value}`;
}
