import { PoisonRecordError } from '../stream/processing-error';
import { parseEnrichedEventMessage, parseRawEventMessage } from './message-validation';

const T0 = Date.UTC(2026, 0, 31, 12, 0, 0);

function rawJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 1, eventId: 'evt-1', occurredAt: T0, accountId: 'acc-1', amount: 10, currency: 'EUR', merchantId: 'm-1',
    receivedAt: T0 + 50, ...overrides,
  };
}

function enrichedJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...rawJson(), amountUsd: 10.8, account: null, merchant: null, blocklistHits: [], flags: ['ACCOUNT_UNKNOWN'], enrichedAt: T0 + 80,
    ...overrides,
  };
}

function poisonOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PoisonRecordError);
    return { code: (error as PoisonRecordError).code, message: (error as PoisonRecordError).message };
  }
  throw new Error('expected a PoisonRecordError');
}

describe('parseRawEventMessage', () => {
  it('returns the normalised event with schemaVersion 1 and receivedAt', () => {
    expect(parseRawEventMessage(rawJson({ occurredAt: '2026-01-31T12:00:00Z', country: 'DE' }))).toStrictEqual({
      schemaVersion: 1, tenantId: 'default', eventId: 'evt-1', occurredAt: T0, accountId: 'acc-1', amount: 10, currency: 'EUR', merchantId: 'm-1', country: 'DE',
      receivedAt: T0 + 50,
    });
  });

  it('keeps the tenant of the message; a message written before tenants existed belongs to "default"', () => {
    expect(parseRawEventMessage(rawJson({ tenantId: 'acme' })).tenantId).toBe('acme');
    expect(parseRawEventMessage(rawJson()).tenantId).toBe('default');
  });

  it.each([[''], ['ACME'], [42], ['a b']])('rejects tenantId %p as poison', (tenantId) => {
    expect(poisonOf(() => parseRawEventMessage(rawJson({ tenantId })))).toMatchObject({ code: 'INVALID_EVENT', message: expect.stringContaining('tenantId') });
  });

  it('does not treat schemaVersion and receivedAt as unknown event fields', () => {
    expect(() => parseRawEventMessage(rawJson())).not.toThrow();
  });

  it('describes every violation of the event in one INVALID_EVENT error', () => {
    expect(poisonOf(() => parseRawEventMessage(rawJson({ amount: 0, currency: 'eur', extra: 1 })))).toEqual({
      code: 'INVALID_EVENT',
      message: 'extra unknown field; amount must be a finite number > 0 and <= 1e15; currency must be an ISO 4217 code of 3 upper-case letters',
    });
  });

  it.each([[undefined], ['1769860800050'], [NaN], [Infinity], [null]])('rejects receivedAt %p', (receivedAt) => {
    expect(poisonOf(() => parseRawEventMessage(rawJson({ receivedAt })))).toEqual({ code: 'INVALID_EVENT', message: 'receivedAt must be epoch milliseconds' });
  });
});

describe('parseEnrichedEventMessage', () => {
  it('returns the message as it is when it has the required shape', () => {
    const json = enrichedJson();
    expect(parseEnrichedEventMessage(json)).toBe(json);
  });

  it('accepts amountUsd null (no FX rate)', () => {
    expect(parseEnrichedEventMessage(enrichedJson({ amountUsd: null })).amountUsd).toBeNull();
  });

  it.each([
    ['eventId empty', { eventId: '' }, 'eventId must be a non-empty string'],
    ['eventId missing', { eventId: undefined }, 'eventId must be a non-empty string'],
    ['accountId a number', { accountId: 7 }, 'accountId must be a non-empty string'],
    ['occurredAt an RFC 3339 string', { occurredAt: '2026-01-31T12:00:00Z' }, 'occurredAt must be epoch milliseconds'],
    ['occurredAt before year 1 (timestamptz and Date could not hold its windows and alerts)', { occurredAt: -62_135_596_800_001 }, 'occurredAt must be within years 1 to 9999'],
    ['occurredAt at year 10000', { occurredAt: 253_402_300_800_000 }, 'occurredAt must be within years 1 to 9999'],
    ['occurredAt far out of range', { occurredAt: -1e16 }, 'occurredAt must be within years 1 to 9999'],
    ['accountId longer than ingest allows', { accountId: 'a'.repeat(129) }, 'accountId must be at most 128 characters'],
    ['eventId longer than ingest allows', { eventId: 'e'.repeat(3000) }, 'eventId must be at most 128 characters'],
    ['merchantId longer than ingest allows', { merchantId: 'm'.repeat(129) }, 'merchantId must be at most 128 characters'],
    ['amount NaN', { amount: NaN }, 'amount must be a number'],
    ['amountUsd missing', { amountUsd: undefined }, 'amountUsd must be a number or null'],
    ['amountUsd Infinity', { amountUsd: Infinity }, 'amountUsd must be a number or null'],
    ['blocklistHits an object', { blocklistHits: {} }, 'blocklistHits must be an array'],
    ['flags missing', { flags: undefined }, 'flags must be an array'],
  ])('rejects %s', (_name, overrides, message) => {
    expect(poisonOf(() => parseEnrichedEventMessage(enrichedJson(overrides)))).toEqual({ code: 'INVALID_ENRICHED_EVENT', message });
  });

  it('accepts the first and last millisecond of the storable range', () => {
    expect(parseEnrichedEventMessage(enrichedJson({ occurredAt: -62_135_596_800_000 })).occurredAt).toBe(-62_135_596_800_000);
    expect(parseEnrichedEventMessage(enrichedJson({ occurredAt: 253_402_300_799_999 })).occurredAt).toBe(253_402_300_799_999);
  });

  it('reports every problem at once', () => {
    expect(poisonOf(() => parseEnrichedEventMessage({ schemaVersion: 1 }))).toEqual({
      code: 'INVALID_ENRICHED_EVENT',
      message: 'eventId must be a non-empty string; accountId must be a non-empty string; occurredAt must be epoch milliseconds; '
        + 'amount must be a number; amountUsd must be a number or null; blocklistHits must be an array; flags must be an array',
    });
  });
});
