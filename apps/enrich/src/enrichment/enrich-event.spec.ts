import type { AccountProfile, BlocklistHit, BlocklistKind, MerchantProfile, RawEventMessage } from '@streamguard/common';
import { deviceKey } from '../devices/device-history';
import { accountKey, blocklistKey, ReferenceSnapshot } from '../reference-data/reference-data';
import { enrichEvent } from './enrich-event';

const T0 = Date.UTC(2026, 0, 31, 12, 0, 0);
const ENRICHED_AT = T0 + 1_000;
/** No device history: events in these tests carry no deviceId unless a test says otherwise. */
const NO_DEVICES = new Map<string, string>();

const ACCOUNT: AccountProfile = { homeCountry: 'DE', riskTier: 'low', openedAt: '2020-05-01' };
const MERCHANT: MerchantProfile = { name: 'Corner Shop', mcc: '5411', country: 'DE', riskScore: 0.1 };

function raw(overrides: Partial<RawEventMessage> = {}): RawEventMessage {
  return {
    schemaVersion: 1, tenantId: 'acme', eventId: 'evt-1', occurredAt: T0, accountId: 'acc-1', amount: 100, currency: 'EUR', merchantId: 'm-1',
    receivedAt: T0 + 5, ...overrides,
  };
}

function hit(kind: BlocklistKind, value: string, reason = `${kind} blocked`): BlocklistHit {
  return { kind, value, reason };
}

function refs(overrides: Partial<ReferenceSnapshot> & { hits?: BlocklistHit[] } = {}): ReferenceSnapshot {
  const { hits = [], ...rest } = overrides;
  return {
    accounts: new Map([[accountKey('acme', 'acc-1'), ACCOUNT]]),
    merchants: new Map([['m-1', MERCHANT]]),
    fxRates: new Map([['EUR', 1.08], ['JPY', 0.0067]]),
    blocklist: new Map(hits.map((h) => [blocklistKey(h.kind, h.value), h])),
    ...rest,
  };
}

describe('enrichEvent', () => {
  it('adds the reference data to the raw event with nothing flagged', () => {
    expect(enrichEvent(raw(), refs(), NO_DEVICES, ENRICHED_AT)).toStrictEqual({
      schemaVersion: 1, tenantId: 'acme', eventId: 'evt-1', occurredAt: T0, accountId: 'acc-1', amount: 100, currency: 'EUR', merchantId: 'm-1', receivedAt: T0 + 5,
      amountUsd: 108,
      account: ACCOUNT,
      merchant: MERCHANT,
      blocklistHits: [],
      flags: [],
      derived: { homeCountryMismatch: null, distanceFromHomeKm: null, newDevice: null, accountAgeDays: 2101 },
      enrichedAt: ENRICHED_AT,
    });
  });

  it('carries the tenant of the raw event through', () => {
    expect(enrichEvent(raw({ tenantId: 'globex' }), refs(), NO_DEVICES, ENRICHED_AT).tenantId).toBe('globex');
  });

  describe('account profiles are per tenant', () => {
    const GLOBEX_ACCOUNT: AccountProfile = { homeCountry: 'US', riskTier: 'high', openedAt: '2025-12-01' };

    it('never uses another tenant\'s profile of the same account id', () => {
      const enriched = enrichEvent(raw({ tenantId: 'globex', country: 'DE', location: { lat: 51.17, lon: 10.45 } }), refs(), NO_DEVICES, ENRICHED_AT);
      expect(enriched).toMatchObject({ tenantId: 'globex', account: null, flags: ['ACCOUNT_UNKNOWN'] });
      expect(enriched.derived).toEqual({ homeCountryMismatch: null, distanceFromHomeKm: null, newDevice: null, accountAgeDays: null });
    });

    it('gives each tenant its own profile of the same account id, and derives from it', () => {
      const both = refs({ accounts: new Map([[accountKey('acme', 'acc-1'), ACCOUNT], [accountKey('globex', 'acc-1'), GLOBEX_ACCOUNT]]) });
      const acme = enrichEvent(raw({ country: 'DE' }), both, NO_DEVICES, ENRICHED_AT);
      const globex = enrichEvent(raw({ tenantId: 'globex', country: 'DE' }), both, NO_DEVICES, ENRICHED_AT);
      expect([acme.account, acme.derived!.homeCountryMismatch, acme.derived!.accountAgeDays]).toEqual([ACCOUNT, false, 2101]);
      expect([globex.account, globex.derived!.homeCountryMismatch, globex.derived!.accountAgeDays]).toEqual([GLOBEX_ACCOUNT, true, 61]);
    });
  });

  it('keeps the optional raw fields and does not invent absent ones', () => {
    const withOptional = raw({ cardId: 'c-1', deviceId: 'd-1', ipAddress: '203.0.113.7', country: 'FR', channel: 'web', location: { lat: 1, lon: 2 }, attributes: { a: 1 } });
    const enriched = enrichEvent(withOptional, refs(), NO_DEVICES, ENRICHED_AT);
    expect(enriched).toMatchObject({ cardId: 'c-1', deviceId: 'd-1', ipAddress: '203.0.113.7', country: 'FR', channel: 'web', location: { lat: 1, lon: 2 }, attributes: { a: 1 } });
    const bare = enrichEvent(raw(), refs(), NO_DEVICES, ENRICHED_AT);
    for (const field of ['cardId', 'deviceId', 'ipAddress', 'country', 'channel', 'location', 'attributes']) {
      expect(bare).not.toHaveProperty(field);
    }
  });

  describe('amountUsd', () => {
    it.each([
      ['EUR at 1.08', 100, 'EUR', 108],
      ['rounded to cents (down)', 19.99, 'EUR', 21.59], // 21.5892
      ['rounded to cents (up)', 0.05, 'EUR', 0.05], // 0.054
      ['a tiny rate', 1234, 'JPY', 8.27], // 8.2678
      ['below half a cent', 0.4, 'JPY', 0], // 0.00268
      ['USD at 1 without a rate row', 12.345, 'USD', 12.35],
      ['a large amount', 1e12, 'EUR', 1.08e12],
    ])('%s: %p %s → %p', (_name, amount, currency, expected) => {
      const enriched = enrichEvent(raw({ amount, currency }), refs(), NO_DEVICES, ENRICHED_AT);
      expect(enriched.amountUsd).toBe(expected);
      expect(enriched.flags).toEqual([]);
    });

    it('uses 1 for USD even if the rate table says otherwise', () => {
      expect(enrichEvent(raw({ currency: 'USD', amount: 10 }), refs({ fxRates: new Map([['USD', 2]]) }), NO_DEVICES, ENRICHED_AT).amountUsd).toBe(10);
    });

    it('is null and flagged FX_RATE_MISSING for a currency without a rate', () => {
      const enriched = enrichEvent(raw({ currency: 'CHF' }), refs(), NO_DEVICES, ENRICHED_AT);
      expect([enriched.amountUsd, enriched.flags]).toEqual([null, ['FX_RATE_MISSING']]);
    });

    it('uses a rate of 0 rather than treating it as missing', () => {
      const enriched = enrichEvent(raw({ currency: 'XXX' }), refs({ fxRates: new Map([['XXX', 0]]) }), NO_DEVICES, ENRICHED_AT);
      expect([enriched.amountUsd, enriched.flags]).toEqual([0, []]);
    });
  });

  describe('missing reference data', () => {
    it('flags an unknown account with account null', () => {
      const enriched = enrichEvent(raw({ accountId: 'acc-x' }), refs(), NO_DEVICES, ENRICHED_AT);
      expect([enriched.account, enriched.merchant, enriched.flags]).toEqual([null, MERCHANT, ['ACCOUNT_UNKNOWN']]);
    });

    it('flags an unknown merchant with merchant null', () => {
      const enriched = enrichEvent(raw({ merchantId: 'm-x' }), refs(), NO_DEVICES, ENRICHED_AT);
      expect([enriched.account, enriched.merchant, enriched.flags]).toEqual([ACCOUNT, null, ['MERCHANT_UNKNOWN']]);
    });

    it('lists every flag in a fixed order and still returns the event', () => {
      const empty: ReferenceSnapshot = { accounts: new Map(), merchants: new Map(), fxRates: new Map(), blocklist: new Map() };
      const enriched = enrichEvent(raw(), empty, NO_DEVICES, ENRICHED_AT);
      expect(enriched).toMatchObject({ eventId: 'evt-1', account: null, merchant: null, amountUsd: null, blocklistHits: [] });
      expect(enriched.flags).toEqual(['ACCOUNT_UNKNOWN', 'MERCHANT_UNKNOWN', 'FX_RATE_MISSING']);
    });
  });

  describe('blocklist', () => {
    const full = raw({ cardId: 'c-1', deviceId: 'd-1', ipAddress: '203.0.113.7', country: 'KP' });

    it.each<[BlocklistKind, string]>([
      ['merchant', 'm-1'], ['card', 'c-1'], ['device', 'd-1'], ['ip', '203.0.113.7'], ['country', 'KP'],
    ])('reports a %s hit for %s', (kind, value) => {
      expect(enrichEvent(full, refs({ hits: [hit(kind, value, 'fraud ring')] }), NO_DEVICES, ENRICHED_AT).blocklistHits).toEqual([{ kind, value, reason: 'fraud ring' }]);
    });

    it('reports every hit, in the order merchant, card, device, ip, country', () => {
      const hits = [hit('country', 'KP'), hit('ip', '203.0.113.7'), hit('device', 'd-1'), hit('card', 'c-1'), hit('merchant', 'm-1')];
      expect(enrichEvent(full, refs({ hits }), NO_DEVICES, ENRICHED_AT).blocklistHits.map((h) => h.kind)).toEqual(['merchant', 'card', 'device', 'ip', 'country']);
    });

    it('matches on kind and value together', () => {
      // 'c-1' is blocked as a device, not as a card; the event's device is 'd-1'.
      expect(enrichEvent(full, refs({ hits: [hit('device', 'c-1'), hit('card', 'C-1')] }), NO_DEVICES, ENRICHED_AT).blocklistHits).toEqual([]);
    });

    it('does not look up fields the event does not have', () => {
      const hits = [hit('card', 'c-1'), hit('device', 'd-1'), hit('ip', '203.0.113.7'), hit('country', 'KP')];
      expect(enrichEvent(raw(), refs({ hits }), NO_DEVICES, ENRICHED_AT).blocklistHits).toEqual([]);
    });

    it('does not flag blocklist hits (they are data, not gaps)', () => {
      expect(enrichEvent(full, refs({ hits: [hit('merchant', 'm-1')] }), NO_DEVICES, ENRICHED_AT).flags).toEqual([]);
    });
  });

  describe('derived', () => {
    it('derives every field when the inputs are there', () => {
      const event = raw({ country: 'FR', location: { lat: 48.86, lon: 2.35 }, deviceId: 'd-1' });
      const devices = new Map([[deviceKey('acme', 'acc-1', 'd-1'), 'evt-1']]);
      // Paris to the centre of Germany (51.17, 10.45, near Kassel): 633 km by haversine.
      expect(enrichEvent(event, refs(), devices, ENRICHED_AT).derived).toEqual({
        homeCountryMismatch: true, distanceFromHomeKm: 633, newDevice: true, accountAgeDays: 2101,
      });
    });

    it('says the device is not new when another event saw it first', () => {
      const event = raw({ eventId: 'evt-2', deviceId: 'd-1' });
      expect(enrichEvent(event, refs(), new Map([[deviceKey('acme', 'acc-1', 'd-1'), 'evt-1']]), ENRICHED_AT).derived!.newDevice).toBe(false);
    });

    it('reads the device history of the event\'s own tenant only', () => {
      const otherTenantSawIt = new Map([[deviceKey('globex', 'acc-1', 'd-1'), 'evt-0']]);
      const event = raw({ eventId: 'evt-2', deviceId: 'd-1' });
      expect(enrichEvent(event, refs(), otherTenantSawIt, ENRICHED_AT).derived!.newDevice).toBeNull();
    });

    it('is all null for an unknown account without location, country or device, and still flags it', () => {
      const enriched = enrichEvent(raw({ accountId: 'acc-x' }), refs(), NO_DEVICES, ENRICHED_AT);
      expect(enriched.derived).toEqual({ homeCountryMismatch: null, distanceFromHomeKm: null, newDevice: null, accountAgeDays: null });
      expect(enriched.flags).toEqual(['ACCOUNT_UNKNOWN']);
    });
  });
});
