import type { AccountProfile, BlocklistHit, BlocklistKind, Clock, MerchantProfile } from '@streamguard/common';
import type { AccountRef, ReferenceChange } from './reference-change';
import { accountKey, blocklistKey, ReferenceDataReader, ReferenceSnapshot } from './reference-data';

interface Entry<V> {
  value: V | null;
  expiresAt: number;
}

/**
 * Batches and caches lookups for one consumer batch: cached ids are served from memory, the misses of the
 * whole batch are fetched with one query per kind. Absent rows are cached too (as null) so an unknown account
 * does not cost a query per event. Blocklist hits are not cached: a new entry must apply to the next batch.
 *
 * Accounts are cached by (tenant, account): a tenant's event only ever gets its own tenant's profile (or none).
 *
 * Freshness: entries expire after `ttlMs`, and `apply(change)` drops them as soon as a change notification
 * arrives. A load that was in flight when a change arrived is used for its batch but not cached: it may
 * have read the row before the change committed.
 */
export class CachedReferenceData {
  /** By `accountKey(tenantId, accountId)`. */
  private readonly accounts = new Map<string, Entry<AccountProfile>>();
  private readonly merchants = new Map<string, Entry<MerchantProfile>>();
  private fx?: Entry<Map<string, number>>;
  /** Bumped by every invalidation; a load that started in an older epoch is not cached. */
  private epoch = 0;

  constructor(private readonly source: ReferenceDataReader, private readonly clock: Clock, private readonly ttlMs: number, private readonly maxEntries = 100_000) {}

  async snapshotFor(events: Array<{ tenantId: string; accountId: string; merchantId: string; cardId?: string; deviceId?: string; ipAddress?: string; country?: string }>): Promise<ReferenceSnapshot> {
    const candidates: Array<{ kind: BlocklistKind; value: string }> = [];
    const seen = new Set<string>();
    const add = (kind: BlocklistKind, value: string | undefined) => {
      if (!value) return;
      const key = blocklistKey(kind, value);
      if (seen.has(key)) return;
      seen.add(key);
      candidates.push({ kind, value });
    };
    for (const e of events) {
      add('merchant', e.merchantId); add('card', e.cardId); add('device', e.deviceId); add('ip', e.ipAddress); add('country', e.country);
    }
    const [accounts, merchants, fxRates, hits] = await Promise.all([
      this.lookup(this.accounts, events.map((e): AccountRef => ({ tenantId: e.tenantId, accountId: e.accountId })), (a) => accountKey(a.tenantId, a.accountId), (refs) => this.source.accounts(refs)),
      this.lookup(this.merchants, events.map((e) => e.merchantId), (id) => id, (ids) => this.source.merchants(ids)),
      this.fxRates(),
      this.source.blocklistHits(candidates),
    ]);
    return { accounts, merchants, fxRates, blocklist: new Map(hits.map((h: BlocklistHit) => [blocklistKey(h.kind, h.value), h])) };
  }

  /** Forget everything (e.g. when change notifications may have been missed). */
  invalidate(): void {
    this.epoch += 1;
    this.accounts.clear();
    this.merchants.clear();
    this.fx = undefined;
  }

  /** Forget what a change notification says changed. Blocklist changes need nothing: it is read per batch. */
  apply(change: ReferenceChange): void {
    this.epoch += 1;
    switch (change.table) {
      case 'accounts':
        if (change.account === null) this.accounts.clear();
        else this.accounts.delete(accountKey(change.account.tenantId, change.account.accountId));
        return;
      case 'merchants':
        if (change.key === null) this.merchants.clear();
        else this.merchants.delete(change.key);
        return;
      case 'fx_rates':
        this.fx = undefined; // all rates are loaded as one entry
        return;
      case 'blocklist':
        return;
    }
  }

  private async fxRates(): Promise<Map<string, number>> {
    const now = this.clock.now();
    if (this.fx && this.fx.expiresAt > now && this.fx.value) return this.fx.value;
    const epoch = this.epoch;
    const value = await this.source.fxRates();
    if (epoch === this.epoch) this.fx = { value, expiresAt: now + this.ttlMs };
    return value;
  }

  /**
   * `refs` from the cache where fresh, the misses with one `load`. `keyOf` names a ref in the cache and in
   * the maps `load` and this method return.
   */
  private async lookup<R, V>(cache: Map<string, Entry<V>>, refs: R[], keyOf: (ref: R) => string, load: (refs: R[]) => Promise<Map<string, V>>): Promise<Map<string, V>> {
    const now = this.clock.now();
    const result = new Map<string, V>();
    const misses = new Map<string, R>();
    for (const ref of refs) {
      const key = keyOf(ref);
      const entry = cache.get(key);
      if (entry && entry.expiresAt > now) {
        if (entry.value !== null) result.set(key, entry.value);
      } else {
        misses.set(key, ref);
      }
    }
    if (misses.size > 0) {
      const epoch = this.epoch;
      const loaded = await load([...misses.values()]);
      const cacheable = epoch === this.epoch;
      if (cacheable && cache.size + misses.size > this.maxEntries) cache.clear(); // crude bound; a hot working set refills quickly
      for (const key of misses.keys()) {
        const value = loaded.get(key) ?? null;
        if (cacheable) cache.set(key, { value, expiresAt: now + this.ttlMs });
        if (value !== null) result.set(key, value);
      }
    }
    return result;
  }
}
