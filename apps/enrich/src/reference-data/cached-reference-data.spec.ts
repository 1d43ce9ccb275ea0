import { ManualClock } from '@streamguard/common';
import type { AccountProfile, BlocklistHit, BlocklistKind, MerchantProfile } from '@streamguard/common';
import { CachedReferenceData } from './cached-reference-data';
import type { AccountRef } from './reference-change';
import { accountKey, blocklistKey, ReferenceDataReader } from './reference-data';

const TTL = 60_000;

const profile = (id: string): AccountProfile => ({ homeCountry: 'DE', riskTier: id, openedAt: null });
const merchant = (id: string): MerchantProfile => ({ name: id, mcc: '5411', country: 'DE', riskScore: null });

/** The tenant of events built with `e(...)`. */
const T = 't1';
/** Key of tenant `T`'s account `id` in snapshots and in FakeReader.accountRows. */
const k = (id: string, tenantId = T) => accountKey(tenantId, id);

/**
 * An in-memory reader that records every call with the ids it was asked for (accounts: as `<tenant>/<account>`
 * when the tenant is not `T`, else the bare account id, so most expectations stay short).
 */
class FakeReader implements ReferenceDataReader {
  readonly calls: Array<[string, unknown]> = [];
  accountRows = new Map<string, AccountProfile>([[k('a1'), profile('a1')], [k('a2'), profile('a2')], [k('a3'), profile('a3')]]);
  merchantRows = new Map<string, MerchantProfile>([['m1', merchant('m1')], ['m2', merchant('m2')]]);
  rates = new Map<string, number>([['EUR', 1.08]]);
  blocked: BlocklistHit[] = [];

  async accounts(refs: AccountRef[]): Promise<Map<string, AccountProfile>> {
    this.calls.push(['accounts', refs.map((r) => (r.tenantId === T ? r.accountId : `${r.tenantId}/${r.accountId}`))]);
    const keys = refs.map((r) => accountKey(r.tenantId, r.accountId));
    return new Map(keys.filter((key) => this.accountRows.has(key)).map((key) => [key, this.accountRows.get(key)!]));
  }
  async merchants(ids: string[]): Promise<Map<string, MerchantProfile>> {
    this.calls.push(['merchants', ids]);
    return new Map(ids.filter((id) => this.merchantRows.has(id)).map((id) => [id, this.merchantRows.get(id)!]));
  }
  async fxRates(): Promise<Map<string, number>> {
    this.calls.push(['fxRates', undefined]);
    return new Map(this.rates);
  }
  async blocklistHits(candidates: Array<{ kind: BlocklistKind; value: string }>): Promise<BlocklistHit[]> {
    this.calls.push(['blocklistHits', candidates]);
    return this.blocked.filter((b) => candidates.some((c) => c.kind === b.kind && c.value === b.value));
  }

  callsTo(kind: string): unknown[] {
    return this.calls.filter(([k]) => k === kind).map(([, args]) => args);
  }
}

function setup(maxEntries?: number) {
  const reader = new FakeReader();
  const clock = new ManualClock(1_000_000);
  const cache = new CachedReferenceData(reader, clock, TTL, maxEntries);
  return { reader, clock, cache };
}

const e = (accountId: string, merchantId: string, extra: { tenantId?: string; cardId?: string; deviceId?: string; ipAddress?: string; country?: string } = {}) => ({ tenantId: T, accountId, merchantId, ...extra });

describe('CachedReferenceData', () => {
  it('makes one call per kind for a whole batch, with each id once', async () => {
    const { reader, cache } = setup();
    const snapshot = await cache.snapshotFor([e('a1', 'm1'), e('a2', 'm1'), e('a1', 'm2'), e('a3', 'm1')]);
    expect(reader.calls.map(([k]) => k).sort()).toEqual(['accounts', 'blocklistHits', 'fxRates', 'merchants']);
    expect(reader.callsTo('accounts')).toEqual([['a1', 'a2', 'a3']]);
    expect(reader.callsTo('merchants')).toEqual([['m1', 'm2']]);
    expect(snapshot.accounts).toEqual(new Map([[k('a1'), profile('a1')], [k('a2'), profile('a2')], [k('a3'), profile('a3')]]));
    expect(snapshot.merchants).toEqual(new Map([['m1', merchant('m1')], ['m2', merchant('m2')]]));
    expect(snapshot.fxRates).toEqual(new Map([['EUR', 1.08]]));
  });

  it('serves cached ids within the TTL and asks only for the new ones', async () => {
    const { reader, clock, cache } = setup();
    await cache.snapshotFor([e('a1', 'm1')]);
    clock.advance(TTL - 1);
    const snapshot = await cache.snapshotFor([e('a1', 'm1'), e('a2', 'm1')]);
    expect(reader.callsTo('accounts')).toEqual([['a1'], ['a2']]);
    expect(reader.callsTo('merchants')).toEqual([['m1']]);
    expect(reader.callsTo('fxRates')).toHaveLength(1);
    expect([...snapshot.accounts.keys()]).toEqual([k('a1'), k('a2')]);
    expect(snapshot.merchants.get('m1')).toEqual(merchant('m1'));
  });

  it('does not call the source for accounts or merchants when everything is cached', async () => {
    const { reader, cache } = setup();
    await cache.snapshotFor([e('a1', 'm1')]);
    reader.calls.length = 0;
    await cache.snapshotFor([e('a1', 'm1')]);
    expect(reader.calls.map(([k]) => k)).toEqual(['blocklistHits']);
  });

  it('reloads accounts, merchants and FX rates exactly at the TTL', async () => {
    const { reader, clock, cache } = setup();
    await cache.snapshotFor([e('a1', 'm1')]);
    reader.accountRows.set(k('a1'), profile('a1-updated'));
    reader.rates.set('EUR', 1.1);
    clock.advance(TTL);
    const snapshot = await cache.snapshotFor([e('a1', 'm1')]);
    expect(reader.callsTo('accounts')).toEqual([['a1'], ['a1']]);
    expect(reader.callsTo('merchants')).toEqual([['m1'], ['m1']]);
    expect(reader.callsTo('fxRates')).toHaveLength(2);
    expect(snapshot.accounts.get(k('a1'))).toEqual(profile('a1-updated'));
    expect(snapshot.fxRates.get('EUR')).toBe(1.1);
  });

  it('caches unknown ids as absent until the TTL, then asks again', async () => {
    const { reader, clock, cache } = setup();
    const first = await cache.snapshotFor([e('ghost', 'nobody')]);
    expect([first.accounts.size, first.merchants.size]).toEqual([0, 0]);

    reader.accountRows.set(k('ghost'), profile('ghost')); // created meanwhile: invisible until the negative entry expires
    clock.advance(TTL - 1);
    const second = await cache.snapshotFor([e('ghost', 'nobody')]);
    expect(second.accounts.has(k('ghost'))).toBe(false);
    expect(reader.callsTo('accounts')).toEqual([['ghost']]);
    expect(reader.callsTo('merchants')).toEqual([['nobody']]);

    clock.advance(1);
    const third = await cache.snapshotFor([e('ghost', 'nobody')]);
    expect(third.accounts.get(k('ghost'))).toEqual(profile('ghost'));
    expect(reader.callsTo('accounts')).toEqual([['ghost'], ['ghost']]);
  });

  describe('accounts are per tenant', () => {
    it('looks up and caches the same account id separately for each tenant', async () => {
      const { reader, cache } = setup();
      reader.accountRows.set(k('a1', 't2'), profile('t2-a1'));
      const snapshot = await cache.snapshotFor([e('a1', 'm1'), e('a1', 'm1', { tenantId: 't2' }), e('a1', 'm1', { tenantId: 't3' })]);
      expect(reader.callsTo('accounts')).toEqual([['a1', 't2/a1', 't3/a1']]);
      expect(snapshot.accounts).toEqual(new Map([[k('a1'), profile('a1')], [k('a1', 't2'), profile('t2-a1')]]));
      expect(snapshot.accounts.has(k('a1', 't3'))).toBe(false); // t3 has no a1: never t1's or t2's profile

      // Cached per tenant: t3's "unknown" is not t1's profile, and a new tenant still asks.
      const again = await cache.snapshotFor([e('a1', 'm1', { tenantId: 't3' }), e('a1', 'm1', { tenantId: 't4' })]);
      expect(reader.callsTo('accounts')).toEqual([['a1', 't2/a1', 't3/a1'], ['t4/a1']]);
      expect(again.accounts.size).toBe(0);
    });

    it('a change of one tenant\'s account forgets only that tenant\'s entry', async () => {
      const { reader, cache } = setup();
      reader.accountRows.set(k('a1', 't2'), profile('t2-a1'));
      await cache.snapshotFor([e('a1', 'm1'), e('a1', 'm1', { tenantId: 't2' })]);
      reader.accountRows.set(k('a1', 't2'), profile('t2-a1-new'));
      cache.apply({ table: 'accounts', account: { tenantId: 't2', accountId: 'a1' } });
      const snapshot = await cache.snapshotFor([e('a1', 'm1'), e('a1', 'm1', { tenantId: 't2' })]);
      expect(reader.callsTo('accounts')).toEqual([['a1', 't2/a1'], ['t2/a1']]);
      expect(snapshot.accounts.get(k('a1', 't2'))).toEqual(profile('t2-a1-new'));
      expect(snapshot.accounts.get(k('a1'))).toEqual(profile('a1'));
    });
  });

  it('never caches blocklist hits: a new entry applies to the next batch', async () => {
    const { reader, cache } = setup();
    const event = e('a1', 'm1', { cardId: 'c1' });
    expect((await cache.snapshotFor([event])).blocklist.size).toBe(0);
    reader.blocked.push({ kind: 'card', value: 'c1', reason: 'stolen' });
    const snapshot = await cache.snapshotFor([event]);
    expect(snapshot.blocklist).toEqual(new Map([[blocklistKey('card', 'c1'), { kind: 'card', value: 'c1', reason: 'stolen' }]]));
    expect(reader.callsTo('blocklistHits')).toHaveLength(2);
  });

  it('asks for each blocklist candidate once per batch, skipping absent and empty values', async () => {
    const { reader, cache } = setup();
    await cache.snapshotFor([
      e('a1', 'm1', { cardId: 'c1', deviceId: 'd1', ipAddress: '10.0.0.1', country: 'DE' }),
      e('a2', 'm1', { cardId: 'c1', deviceId: '' }),
      e('a3', 'm2', { country: 'DE' }),
    ]);
    expect(reader.callsTo('blocklistHits')).toEqual([[
      { kind: 'merchant', value: 'm1' }, { kind: 'card', value: 'c1' }, { kind: 'device', value: 'd1' },
      { kind: 'ip', value: '10.0.0.1' }, { kind: 'country', value: 'DE' }, { kind: 'merchant', value: 'm2' },
    ]]);
  });

  it('keys blocklist hits by kind and value', async () => {
    const { reader, cache } = setup();
    reader.blocked.push({ kind: 'merchant', value: 'm1', reason: 'mule' }, { kind: 'device', value: 'm1', reason: 'emulator' });
    const snapshot = await cache.snapshotFor([e('a1', 'm1', { deviceId: 'm1' })]);
    expect(snapshot.blocklist.get(blocklistKey('merchant', 'm1'))?.reason).toBe('mule');
    expect(snapshot.blocklist.get(blocklistKey('device', 'm1'))?.reason).toBe('emulator');
  });

  it('invalidate() forgets accounts, merchants, unknown ids and FX rates', async () => {
    const { reader, cache } = setup();
    await cache.snapshotFor([e('a1', 'm1'), e('ghost', 'm1')]);
    cache.invalidate();
    await cache.snapshotFor([e('a1', 'm1'), e('ghost', 'm1')]);
    expect(reader.callsTo('accounts')).toEqual([['a1', 'ghost'], ['a1', 'ghost']]);
    expect(reader.callsTo('merchants')).toEqual([['m1'], ['m1']]);
    expect(reader.callsTo('fxRates')).toHaveLength(2);
  });

  it('clears a cache that would exceed maxEntries instead of growing without bound', async () => {
    const { reader, cache } = setup(2);
    await cache.snapshotFor([e('a1', 'm1'), e('a2', 'm1')]); // accounts cache: 2 entries
    await cache.snapshotFor([e('a3', 'm1')]); // 2 + 1 > 2: cleared, then holds a3
    const snapshot = await cache.snapshotFor([e('a1', 'm1'), e('a3', 'm1')]);
    expect(reader.callsTo('accounts')).toEqual([['a1', 'a2'], ['a3'], ['a1']]);
    expect([...snapshot.accounts.keys()].sort()).toEqual([k('a1'), k('a3')]);
  });

  it('returns empty maps and still asks the blocklist for an empty batch', async () => {
    const { reader, cache } = setup();
    const snapshot = await cache.snapshotFor([]);
    expect([snapshot.accounts.size, snapshot.merchants.size, snapshot.blocklist.size]).toEqual([0, 0, 0]);
    expect(reader.callsTo('accounts')).toEqual([]);
    expect(reader.callsTo('merchants')).toEqual([]);
  });

  it('does not cache a failed load', async () => {
    const { reader, cache } = setup();
    const failing = jest.spyOn(reader, 'accounts').mockRejectedValueOnce(new Error('db down'));
    await expect(cache.snapshotFor([e('a1', 'm1')])).rejects.toThrow('db down');
    const snapshot = await cache.snapshotFor([e('a1', 'm1')]);
    expect(failing).toHaveBeenCalledTimes(2);
    expect(snapshot.accounts.get(k('a1'))).toEqual(profile('a1'));
  });

  describe('apply(change)', () => {
    it('forgets only the changed account or merchant', async () => {
      const { reader, cache } = setup();
      await cache.snapshotFor([e('a1', 'm1'), e('a2', 'm2')]);
      reader.accountRows.set(k('a1'), profile('a1-new'));
      cache.apply({ table: 'accounts', account: { tenantId: T, accountId: 'a1' } });
      cache.apply({ table: 'merchants', key: 'm2' });
      const snapshot = await cache.snapshotFor([e('a1', 'm1'), e('a2', 'm2')]);
      expect(reader.callsTo('accounts')).toEqual([['a1', 'a2'], ['a1']]);
      expect(reader.callsTo('merchants')).toEqual([['m1', 'm2'], ['m2']]);
      expect(reader.callsTo('fxRates')).toHaveLength(1);
      expect(snapshot.accounts.get(k('a1'))).toEqual(profile('a1-new'));
    });

    it('forgets a whole table for a key of null, and all FX rates for any rate change', async () => {
      const { reader, cache } = setup();
      await cache.snapshotFor([e('a1', 'm1'), e('a2', 'm1')]);
      cache.apply({ table: 'accounts', account: null });
      cache.apply({ table: 'fx_rates', key: 'EUR' });
      await cache.snapshotFor([e('a1', 'm1'), e('a2', 'm1')]);
      expect(reader.callsTo('accounts')).toEqual([['a1', 'a2'], ['a1', 'a2']]);
      expect(reader.callsTo('merchants')).toEqual([['m1']]);
      expect(reader.callsTo('fxRates')).toHaveLength(2);
    });

    it('makes a newly created account visible at once (drops the cached "unknown")', async () => {
      const { reader, cache } = setup();
      expect((await cache.snapshotFor([e('ghost', 'm1')])).accounts.has(k('ghost'))).toBe(false);
      reader.accountRows.set(k('ghost'), profile('ghost'));
      cache.apply({ table: 'accounts', account: { tenantId: T, accountId: 'ghost' } });
      expect((await cache.snapshotFor([e('ghost', 'm1')])).accounts.get(k('ghost'))).toEqual(profile('ghost'));
    });

    it('does not cache a load that was in flight when a change arrived (it may hold the old row)', async () => {
      const { reader, cache } = setup();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => { release = resolve; });
      const original = reader.accounts.bind(reader);
      jest.spyOn(reader, 'accounts').mockImplementationOnce(async (ids) => {
        const stale = await original(ids); // read before the change commits…
        await gate;
        return stale;
      });
      const inFlight = cache.snapshotFor([e('a1', 'm1')]);
      await new Promise((resolve) => setImmediate(resolve));
      reader.accountRows.set(k('a1'), profile('a1-new')); // …the change commits and is notified meanwhile
      cache.apply({ table: 'accounts', account: { tenantId: T, accountId: 'a1' } });
      release();
      expect((await inFlight).accounts.get(k('a1'))).toEqual(profile('a1')); // that batch started before the change
      expect((await cache.snapshotFor([e('a1', 'm1')])).accounts.get(k('a1'))).toEqual(profile('a1-new'));
    });

    it('ignores blocklist changes (the blocklist is read for every batch anyway)', async () => {
      const { reader, cache } = setup();
      await cache.snapshotFor([e('a1', 'm1')]);
      cache.apply({ table: 'blocklist', key: 'card:c1' });
      await cache.snapshotFor([e('a1', 'm1')]);
      expect(reader.callsTo('accounts')).toEqual([['a1']]);
    });
  });
});
