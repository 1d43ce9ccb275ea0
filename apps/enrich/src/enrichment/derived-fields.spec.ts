import type { AccountProfile, RawEventMessage } from '@streamguard/common';
import { COVERED_COUNTRIES, countryCentroid } from './country-centroids';
import { accountAgeDays, deriveFields } from './derived-fields';

const T0 = Date.UTC(2026, 0, 31, 12, 0, 0);
const DE: AccountProfile = { homeCountry: 'DE', riskTier: 'standard', openedAt: '2026-01-01' };

function raw(overrides: Partial<RawEventMessage> = {}): RawEventMessage {
  return { schemaVersion: 1, tenantId: 'acme', eventId: 'e', occurredAt: T0, accountId: 'a', amount: 1, currency: 'EUR', merchantId: 'm', receivedAt: T0, ...overrides };
}

describe('deriveFields', () => {
  describe('homeCountryMismatch', () => {
    it.each([
      ['same country', 'DE', DE, false],
      ['another country', 'FR', DE, true],
      ['no event country', undefined, DE, null],
      ['no home country', 'FR', { ...DE, homeCountry: null }, null],
      ['unknown account', 'FR', null, null],
    ])('%s → %p', (_name, country, account, expected) => {
      expect(deriveFields(raw({ country }), account, null).homeCountryMismatch).toBe(expected);
    });
  });

  describe('distanceFromHomeKm', () => {
    it('is 0 at the centroid and whole km elsewhere', () => {
      const centre = countryCentroid('DE')!;
      expect(deriveFields(raw({ location: centre }), DE, null).distanceFromHomeKm).toBe(0);
      // New York to the centre of Germany: about 6 400 km.
      const ny = deriveFields(raw({ location: { lat: 40.71, lon: -74.01 } }), DE, null).distanceFromHomeKm!;
      expect(Number.isInteger(ny)).toBe(true);
      expect(ny).toBeGreaterThan(6_200);
      expect(ny).toBeLessThan(6_600);
    });

    it.each([
      ['no location', raw(), DE],
      ['no home country', raw({ location: { lat: 0, lon: 0 } }), { ...DE, homeCountry: null }],
      ['a home country outside the table', raw({ location: { lat: 0, lon: 0 } }), { ...DE, homeCountry: 'AQ' }],
      ['unknown account', raw({ location: { lat: 0, lon: 0 } }), null],
    ])('is null with %s', (_name, event, account) => {
      expect(deriveFields(event, account, null).distanceFromHomeKm).toBeNull();
    });
  });

  it('passes newDevice through', () => {
    expect([true, false, null].map((d) => deriveFields(raw(), DE, d).newDevice)).toEqual([true, false, null]);
  });
});

describe('accountAgeDays', () => {
  const opened = '2026-01-01';
  const midnight = Date.UTC(2026, 0, 1);
  it.each([
    ['the opening instant', midnight, 0],
    ['the last millisecond of the first day', midnight + 86_400_000 - 1, 0],
    ['the next day', midnight + 86_400_000, 1],
    ['a year later', Date.UTC(2027, 0, 1), 365],
    ['a millisecond before opening', midnight - 1, -1],
  ])('%s → %p', (_name, at, expected) => {
    expect(accountAgeDays(at, opened)).toBe(expected);
  });

  it.each([[null], ['2026-1-1'], ['yesterday']])('is null for opening date %p', (openedAt) => {
    expect(accountAgeDays(T0, openedAt)).toBeNull();
  });
});

describe('country centroids', () => {
  it('covers at least 60 countries, each a valid code with a valid coordinate', () => {
    expect(COVERED_COUNTRIES.length).toBeGreaterThanOrEqual(60);
    for (const country of COVERED_COUNTRIES) {
      expect(country).toMatch(/^[A-Z]{2}$/);
      const { lat, lon } = countryCentroid(country)!;
      expect(Math.abs(lat)).toBeLessThanOrEqual(90);
      expect(Math.abs(lon)).toBeLessThanOrEqual(180);
    }
  });

  it('puts well-known countries in the right hemisphere (catches swapped lat/lon)', () => {
    expect(countryCentroid('AU')).toEqual({ lat: -25.27, lon: 133.78 });
    expect(countryCentroid('US')!.lon).toBeLessThan(0);
    expect(countryCentroid('BR')!.lat).toBeLessThan(0);
    expect(countryCentroid('JP')!.lon).toBeGreaterThan(120);
    expect(countryCentroid('XX')).toBeUndefined();
  });
});
