import fc from 'fast-check';
import {
  CARD_NUMBER_REASON, EVENT_LIMITS, FieldViolation, looksLikeCardNumber, parseEventTime, TransactionEvent, validateTransactionEvent,
} from './transaction-event';

const T0 = Date.UTC(2026, 0, 31, 12, 0, 0); // 2026-01-31T12:00:00Z

/** A minimal valid event (required fields only); each test overrides what it exercises. */
function minimal(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { eventId: 'evt-1', occurredAt: T0, accountId: 'acc-1', amount: 12.5, currency: 'EUR', merchantId: 'm-1', ...overrides };
}

function validate(input: unknown, index = 0): { event: TransactionEvent | undefined; problems: FieldViolation[] } {
  const problems: FieldViolation[] = [];
  const event = validateTransactionEvent(input, index, problems);
  return { event, problems };
}

/** The `field` of every violation, in order. */
function fieldsOf(input: unknown): string[] {
  return validate(input).problems.map((p) => p.field);
}

const TIME_REASON = 'must be an RFC 3339 date-time with offset (e.g. 2026-01-31T12:00:00Z) or integer epoch milliseconds';
const RANGE_REASON = 'must be between 2000-01-01 and 2200-01-01 (epoch milliseconds, not seconds)';

describe('parseEventTime', () => {
  it.each([
    ['RFC 3339 with Z', '2026-01-31T12:00:00Z', T0],
    ['RFC 3339 with lower-case t and z', '2026-01-31t12:00:00z', T0],
    ['RFC 3339 with +hh:mm offset', '2026-01-31T17:30:00+05:30', T0],
    ['RFC 3339 with -hh:mm offset', '2026-01-31T07:00:00-05:00', T0],
    ['RFC 3339 with milliseconds', '2026-01-31T12:00:00.123Z', T0 + 123],
    ['RFC 3339 with 9 fractional digits (truncated to ms)', '2026-01-31T12:00:00.123456789Z', T0 + 123],
    ['integer epoch ms', T0, T0],
    ['epoch 0', 0, 0],
    ['negative integer (range is checked by the validator, not here)', -1, -1],
    ['Number.MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  ])('parses %s', (_name, input, expected) => {
    expect(parseEventTime(input)).toBe(expected);
  });

  it.each([
    ['RFC 3339 without offset', '2026-01-31T12:00:00'],
    ['date only', '2026-01-31'],
    ['space instead of T', '2026-01-31 12:00:00Z'],
    ['offset without colon', '2026-01-31T12:00:00+0530'],
    ['10 fractional digits', '2026-01-31T12:00:00.1234567890Z'],
    ['empty fraction', '2026-01-31T12:00:00.Z'],
    ['month 13', '2026-13-01T00:00:00Z'],
    ['leading whitespace', ' 2026-01-31T12:00:00Z'],
    ['epoch ms as a string', String(T0)],
    ['empty string', ''],
    ['fractional epoch ms', T0 + 0.5],
    ['beyond MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER + 1],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['null', null],
    ['undefined', undefined],
    ['boolean', true],
    ['Date object', new Date(T0)],
    ['object', { ms: T0 }],
  ])('returns NaN for %s', (_name, input) => {
    expect(parseEventTime(input)).toBeNaN();
  });
});

describe('validateTransactionEvent', () => {
  describe('a valid event', () => {
    it('returns the required fields only, with nothing added, and reports nothing', () => {
      const { event, problems } = validate(minimal());
      expect(problems).toEqual([]);
      expect(event).toStrictEqual({ eventId: 'evt-1', occurredAt: T0, accountId: 'acc-1', amount: 12.5, currency: 'EUR', merchantId: 'm-1' });
    });

    it('normalises an RFC 3339 occurredAt to epoch milliseconds', () => {
      expect(validate(minimal({ occurredAt: '2026-01-31T13:00:00.250+01:00' })).event?.occurredAt).toBe(T0 + 250);
    });

    it('copies every optional field, and copies location and attributes instead of aliasing them', () => {
      const input = minimal({
        cardId: 'card-1', deviceId: 'dev-1', ipAddress: '203.0.113.7', country: 'DE', channel: 'web',
        location: { lat: 52.52, lon: 13.405 }, attributes: { mcc: '5411', cardPresent: false, score: 0.25 },
      });
      const { event, problems } = validate(input);
      expect(problems).toEqual([]);
      expect(event).toStrictEqual({
        eventId: 'evt-1', occurredAt: T0, accountId: 'acc-1', amount: 12.5, currency: 'EUR', merchantId: 'm-1',
        cardId: 'card-1', deviceId: 'dev-1', ipAddress: '203.0.113.7', country: 'DE', channel: 'web',
        location: { lat: 52.52, lon: 13.405 }, attributes: { mcc: '5411', cardPresent: false, score: 0.25 },
      });
      expect(event!.location).not.toBe(input.location);
      expect(event!.attributes).not.toBe(input.attributes);
    });

    it('does not append to problems that were already in the list, and still returns the event', () => {
      const problems: FieldViolation[] = [{ index: 0, field: 'x', reason: 'earlier event' }];
      const event = validateTransactionEvent(minimal({ eventId: 'evt-2' }), 1, problems);
      expect(event?.eventId).toBe('evt-2');
      expect(problems).toEqual([{ index: 0, field: 'x', reason: 'earlier event' }]);
    });
  });

  describe('non-object input', () => {
    it.each([
      [null, 'null'],
      [[minimal()], 'array'],
      ['{"eventId":"x"}', 'string'],
      [42, 'number'],
      [true, 'boolean'],
      [undefined, 'undefined'],
    ])('rejects %p as the event itself', (input, type) => {
      const { event, problems } = validate(input, 7);
      expect(event).toBeUndefined();
      expect(problems).toEqual([{ index: 7, field: '', reason: `event must be a JSON object, got ${type}` }]);
    });
  });

  describe('unknown top-level fields', () => {
    it('rejects a misspelt field', () => {
      expect(validate(minimal({ ammount: 5 })).problems).toEqual([{ index: 0, field: 'ammount', reason: 'unknown field' }]);
    });

    it('rejects `__proto__` as parsed by JSON.parse (an own property)', () => {
      const input = JSON.parse(`{"__proto__": {"isAdmin": true}, ${JSON.stringify(minimal()).slice(1)}`) as unknown;
      const { event, problems } = validate(input);
      expect(event).toBeUndefined();
      expect(problems).toEqual([{ index: 0, field: '__proto__', reason: 'unknown field' }]);
    });

    it('rejects `constructor` and `toString` own properties', () => {
      expect(fieldsOf(minimal({ constructor: {}, toString: 'x' }))).toEqual(['constructor', 'toString']);
    });

    it('echoes at most 100 characters of a huge unknown key', () => {
      const key = 'k'.repeat(100_000);
      expect(validate(minimal({ [key]: 1 })).problems).toEqual([{ index: 0, field: `${'k'.repeat(100)}…`, reason: 'unknown field' }]);
    });

    it('reports an unknown key of exactly 100 characters unchanged', () => {
      expect(fieldsOf(minimal({ ['k'.repeat(100)]: 1 }))).toEqual(['k'.repeat(100)]);
    });
  });

  describe('id fields (eventId, accountId, merchantId, cardId, deviceId)', () => {
    const required = ['eventId', 'accountId', 'merchantId'] as const;
    const optional = ['cardId', 'deviceId'] as const;

    it.each([...required, ...optional])('%s accepts exactly 128 characters and rejects 129', (field) => {
      expect(validate(minimal({ [field]: 'a'.repeat(EVENT_LIMITS.idMaxLength) })).problems).toEqual([]);
      expect(validate(minimal({ [field]: 'a'.repeat(129) })).problems)
        .toEqual([{ index: 0, field, reason: 'must be 1-128 characters, got 129' }]);
    });

    it.each([...required, ...optional])('%s rejects the empty string', (field) => {
      expect(validate(minimal({ [field]: '' })).problems).toEqual([{ index: 0, field, reason: 'must be 1-128 characters, got 0' }]);
    });

    it.each(required)('%s is required', (field) => {
      const input = minimal();
      delete input[field];
      expect(validate(input).problems).toEqual([{ index: 0, field, reason: 'is required' }]);
    });

    it.each(optional)('%s may be absent', (field) => {
      expect(validate(minimal({ [field]: undefined })).problems).toEqual([]);
    });

    it.each([
      [123, 'number'], [null, 'null'], [['a'], 'array'], [{ id: 'a' }, 'object'], [true, 'boolean'],
    ])('rejects a non-string %p with its type', (value, type) => {
      expect(validate(minimal({ eventId: value })).problems)
        .toEqual([{ index: 0, field: 'eventId', reason: `must be a string, got ${type}` }]);
    });

    it.each([
      ['NUL', 'evt\u00001'], ['tab', 'evt\t1'], ['newline', 'evt\n1'], ['carriage return', 'evt\r1'],
      ['unit separator U+001F', 'evt\u001f1'], ['DEL U+007F', 'evt\u007f1'],
    ])('rejects a %s control character', (_name, value) => {
      expect(validate(minimal({ accountId: value })).problems)
        .toEqual([{ index: 0, field: 'accountId', reason: 'must not contain control characters' }]);
    });

    it('accepts spaces and non-ASCII characters', () => {
      expect(validate(minimal({ merchantId: 'Café Zürich 東京 ✓' })).problems).toEqual([]);
    });

    it('accepts characters outside the BMP (surrogate pairs)', () => {
      expect(validate(minimal({ merchantId: 'shop 😀 𝄞' })).problems).toEqual([]);
    });

    it.each([
      ['a lone high surrogate', 'evt-\ud83d'], ['a lone low surrogate', 'evt-\ude00'], ['swapped halves', 'evt-\ude00\ud83d'],
    ])('%s rejects %s', (_name, value) => {
      expect(validate(minimal({ eventId: value })).problems)
        .toEqual([{ index: 0, field: 'eventId', reason: 'must be valid Unicode (no unpaired surrogate)' }]);
    });
  });

  describe('cardId: tokens only, never a card number (PAN)', () => {
    // 4111 1111 1111 1111 is the classic Visa test number; the others are standard test PANs of each length.
    it.each([
      ['13 digits (Visa)', '4222222222222'],
      ['15 digits (Amex)', '378282246310005'],
      ['16 digits (Visa)', '4111111111111111'],
      ['16 digits with spaces', '4111 1111 1111 1111'],
      ['16 digits with dashes', '4111-1111-1111-1111'],
      ['mixed and doubled separators', ' 4111--1111 1111-1111 '],
      ['19 digits', '6250941006528599000'.slice(0, 18) + luhnDigit('6250941006528599000'.slice(0, 18))],
    ])('rejects %s that passes Luhn', (_name, cardId) => {
      expect(looksLikeCardNumber(cardId)).toBe(true);
      const { event, problems } = validate(minimal({ cardId }));
      expect(event).toBeUndefined();
      expect(problems).toEqual([{ index: 0, field: 'cardId', reason: CARD_NUMBER_REASON }]);
      expect(CARD_NUMBER_REASON).toBe('looks like a card number (PAN); send a token instead — Streamguard never stores card numbers');
    });

    it.each([
      ['12 digits passing Luhn (too short for a PAN)', withLuhn(11)],
      ['20 digits passing Luhn (too long for a PAN)', withLuhn(19)],
      ['13 digits failing Luhn', '4222222222223'],
      ['16 digits failing Luhn', '4111111111111112'],
      ['19 digits failing Luhn', bump(withLuhn(18))],
      ['a token', 'tok_4111111111111111'],
      ['a PAN with a letter in it', '4111 1111 1111 111x'],
      ['a PAN with dots', '4111.1111.1111.1111'],
      ['a uuid', '0f8fad5b-d9cb-469f-a165-70867728950e'],
      ['separators only', '--- ---'],
    ])('accepts %s', (_name, cardId) => {
      expect(looksLikeCardNumber(cardId)).toBe(false);
      expect(validate(minimal({ cardId })).event?.cardId).toBe(cardId);
    });

    it.each([13, 19])('the bound %i digits is checked (Luhn pass rejected, fail accepted)', (length) => {
      const pan = withLuhn(length - 1);
      expect(pan).toHaveLength(length);
      expect(fieldsOf(minimal({ cardId: pan }))).toEqual(['cardId']);
      expect(fieldsOf(minimal({ cardId: bump(pan) }))).toEqual([]);
    });

    it('never flags a string that is not only digits, spaces and dashes', () => {
      fc.assert(fc.property(fc.string({ maxLength: 40 }).filter((s) => /[^0-9 -]/.test(s)), (s) => !looksLikeCardNumber(s)), { seed: 42 });
    });

    it('flags exactly one of the ten possible check digits of any 12-18 digit prefix', () => {
      fc.assert(fc.property(fc.stringMatching(/^[0-9]{12,18}$/), (prefix) => {
        const flagged = Array.from({ length: 10 }, (_, d) => prefix + d).filter(looksLikeCardNumber);
        expect(flagged).toEqual([prefix + luhnDigit(prefix)]);
      }), { seed: 42 });
    });
  });

  describe('channel (max 32 characters)', () => {
    it('accepts 32 characters and rejects 33', () => {
      expect(validate(minimal({ channel: 'c'.repeat(32) })).problems).toEqual([]);
      expect(validate(minimal({ channel: 'c'.repeat(33) })).problems)
        .toEqual([{ index: 0, field: 'channel', reason: 'must be 1-32 characters, got 33' }]);
    });
  });

  describe('occurredAt', () => {
    it('is required', () => {
      expect(validate(minimal({ occurredAt: undefined })).problems).toEqual([{ index: 0, field: 'occurredAt', reason: 'is required' }]);
    });

    it.each([
      ['RFC 3339 without offset', '2026-01-31T12:00:00'],
      ['fractional epoch ms', T0 + 0.5],
      ['epoch ms as a string', String(T0)],
      ['null', null],
      ['NaN', NaN],
    ])('rejects %s with the format reason', (_name, value) => {
      expect(validate(minimal({ occurredAt: value })).problems).toEqual([{ index: 0, field: 'occurredAt', reason: TIME_REASON }]);
    });

    it('accepts the first and last millisecond of [2000-01-01, 2200-01-01)', () => {
      expect(validate(minimal({ occurredAt: EVENT_LIMITS.minEventTimeMs })).event?.occurredAt).toBe(Date.UTC(2000, 0, 1));
      expect(validate(minimal({ occurredAt: EVENT_LIMITS.maxEventTimeMs - 1 })).event?.occurredAt).toBe(Date.UTC(2199, 11, 31, 23, 59, 59, 999));
      expect(validate(minimal({ occurredAt: '2199-12-31T23:59:59.999Z' })).problems).toEqual([]);
    });

    it.each([
      ['-1 ms', -1],
      ['the last millisecond before 2000', EVENT_LIMITS.minEventTimeMs - 1],
      ['1999 as RFC 3339', '1999-12-31T23:59:59.999Z'],
      ['exactly 2200-01-01 in ms', Date.UTC(2200, 0, 1)],
      ['2200-01-01 as RFC 3339', '2200-01-01T00:00:00Z'],
      ['year 9999', '9999-12-31T23:59:59Z'],
      ['epoch microseconds', T0 * 1000],
    ])('rejects %s as out of range', (_name, value) => {
      expect(validate(minimal({ occurredAt: value })).problems).toEqual([{ index: 0, field: 'occurredAt', reason: RANGE_REASON }]);
    });

    // A present-day epoch-seconds value read as ms is in 1970: outside the range.
    it('rejects a present-day timestamp sent in epoch seconds instead of milliseconds', () => {
      const seconds = T0 / 1000; // 1_769_860_800
      expect(validate(minimal({ occurredAt: seconds })).problems).toEqual([{ index: 0, field: 'occurredAt', reason: RANGE_REASON }]);
    });

    // Date.parse alone would roll impossible values over (2026-02-30 → 2026-03-02, 24:00:00 → next day).
    it('rejects date-times that do not exist on the calendar instead of rolling them over', () => {
      expect(parseEventTime('2026-02-30T00:00:00Z')).toBeNaN();
      expect(parseEventTime('2026-01-31T24:00:00Z')).toBeNaN();
      expect(validate(minimal({ occurredAt: '2026-02-30T00:00:00Z' })).problems).toEqual([{ index: 0, field: 'occurredAt', reason: TIME_REASON }]);
    });
  });

  describe('amount', () => {
    it.each([
      ['the smallest positive number', Number.MIN_VALUE],
      ['a cent', 0.01],
      ['exactly 1e15', 1e15],
    ])('accepts %s', (_name, amount) => {
      expect(validate(minimal({ amount })).event?.amount).toBe(amount);
    });

    it.each([
      ['0', 0], ['-0', -0], ['negative', -5], ['1e15 + 1', 1e15 + 1], ['NaN', NaN], ['Infinity', Infinity],
      ['-Infinity', -Infinity], ['a numeric string', '12.50'], ['null', null], ['boolean', true],
    ])('rejects %s', (_name, amount) => {
      expect(validate(minimal({ amount })).problems).toEqual([{ index: 0, field: 'amount', reason: 'must be a finite number > 0 and <= 1e15' }]);
    });

    it('is required', () => {
      expect(validate(minimal({ amount: undefined })).problems).toEqual([{ index: 0, field: 'amount', reason: 'is required' }]);
    });
  });

  describe('currency', () => {
    it.each(['USD', 'EUR', 'JPY'])('accepts %s', (currency) => {
      expect(validate(minimal({ currency })).problems).toEqual([]);
    });

    it.each([['lower case', 'eur'], ['4 letters', 'EURO'], ['2 letters', 'EU'], ['digits', '978'], ['empty', ''], ['padded', ' EUR'], ['number', 978], ['null', null]])(
      'rejects %s',
      (_name, currency) => {
        expect(validate(minimal({ currency })).problems).toEqual([{ index: 0, field: 'currency', reason: 'must be an ISO 4217 code of 3 upper-case letters' }]);
      },
    );

    it('is required', () => {
      expect(validate(minimal({ currency: undefined })).problems).toEqual([{ index: 0, field: 'currency', reason: 'is required' }]);
    });
  });

  describe('country (optional)', () => {
    it('accepts an upper-case alpha-2 code', () => {
      expect(validate(minimal({ country: 'FR' })).event?.country).toBe('FR');
    });

    it.each([['lower case', 'fr'], ['alpha-3', 'FRA'], ['one letter', 'F'], ['empty', ''], ['number', 33]])('rejects %s', (_name, country) => {
      expect(validate(minimal({ country })).problems)
        .toEqual([{ index: 0, field: 'country', reason: 'must be an ISO 3166-1 alpha-2 code of 2 upper-case letters' }]);
    });
  });

  describe('ipAddress (optional)', () => {
    it.each(['0.0.0.0', '255.255.255.255', '10.0.0.1', '::1', '2001:db8::ff00:42:8329', '::ffff:192.0.2.128'])('accepts %s', (ipAddress) => {
      expect(validate(minimal({ ipAddress })).event?.ipAddress).toBe(ipAddress);
    });

    it.each(['256.0.0.1', '1.2.3', '01.2.3.4', 'localhost', '', '2001:db8::zz', 'abcd', 42])('rejects %p', (ipAddress) => {
      expect(validate(minimal({ ipAddress })).problems).toEqual([{ index: 0, field: 'ipAddress', reason: 'must be an IPv4 or IPv6 address' }]);
    });
  });

  describe('location (optional)', () => {
    it.each([
      [{ lat: 90, lon: 180 }], [{ lat: -90, lon: -180 }], [{ lat: 0, lon: 0 }],
    ])('accepts the bound %p', (location) => {
      expect(validate(minimal({ location })).event?.location).toStrictEqual(location);
    });

    it.each([
      ['lat above 90', { lat: 90.000001, lon: 0 }, ['location.lat']],
      ['lat below -90', { lat: -90.1, lon: 0 }, ['location.lat']],
      ['lon above 180', { lat: 0, lon: 180.5 }, ['location.lon']],
      ['lon below -180', { lat: 0, lon: -181 }, ['location.lon']],
      ['lat as a string', { lat: '1', lon: 0 }, ['location.lat']],
      ['NaN lon', { lat: 0, lon: NaN }, ['location.lon']],
      ['both missing', {}, ['location.lat', 'location.lon']],
      ['an unknown key', { lat: 1, lon: 2, alt: 30 }, ['location.alt']],
    ])('rejects %s', (_name, location, fields) => {
      expect(fieldsOf(minimal({ location }))).toEqual(fields);
    });

    it('names each bound in the reason and reports an unknown key', () => {
      expect(validate(minimal({ location: { lat: 91, lon: 181, alt: 3 } })).problems).toEqual([
        { index: 0, field: 'location.alt', reason: 'unknown field' },
        { index: 0, field: 'location.lat', reason: 'must be a number between -90 and 90' },
        { index: 0, field: 'location.lon', reason: 'must be a number between -180 and 180' },
      ]);
    });

    it.each([[null], [[52.5, 13.4]], ['52.5,13.4']])('rejects a non-object %p', (location) => {
      expect(validate(minimal({ location })).problems).toEqual([{ index: 0, field: 'location', reason: 'must be an object {lat, lon}' }]);
    });
  });

  describe('attributes (optional)', () => {
    const keyReason = 'key must match ^[A-Za-z_][A-Za-z0-9_.-]*$ and be at most 64 characters';
    const manyKeys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

    it('accepts exactly 32 keys and rejects 33 with one violation for the object', () => {
      expect(validate(minimal({ attributes: manyKeys(32) })).event?.attributes).toStrictEqual(manyKeys(32));
      expect(validate(minimal({ attributes: manyKeys(33) })).problems)
        .toEqual([{ index: 0, field: 'attributes', reason: 'must have at most 32 keys, got 33' }]);
    });

    it('accepts an empty object', () => {
      expect(validate(minimal({ attributes: {} })).event?.attributes).toStrictEqual({});
    });

    it('accepts keys of 64 characters and the allowed punctuation, rejects 65 characters', () => {
      expect(validate(minimal({ attributes: { ['k'.repeat(64)]: 1, _a: 1, 'a.b-c_d9': 1 } })).problems).toEqual([]);
      const long = 'k'.repeat(65);
      expect(validate(minimal({ attributes: { [long]: 1 } })).problems).toEqual([{ index: 0, field: `attributes.${long}`, reason: keyReason }]);
    });

    it.each(['9lives', 'has space', 'a/b', '', '-x', 'é'])('rejects the key %p', (key) => {
      expect(validate(minimal({ attributes: { [key]: 1 } })).problems).toEqual([{ index: 0, field: `attributes.${key}`, reason: keyReason }]);
    });

    it('accepts string values of 256 characters and rejects 257', () => {
      expect(validate(minimal({ attributes: { note: 'x'.repeat(256) } })).problems).toEqual([]);
      expect(validate(minimal({ attributes: { note: 'x'.repeat(257) } })).problems)
        .toEqual([{ index: 0, field: 'attributes.note', reason: 'string values must be at most 256 characters' }]);
    });

    it.each([[NaN], [Infinity], [-Infinity]])('rejects the non-finite number %p', (value) => {
      expect(validate(minimal({ attributes: { score: value } })).problems)
        .toEqual([{ index: 0, field: 'attributes.score', reason: 'numbers must be finite' }]);
    });

    it.each([
      [{ a: 1 }, 'object'], [[1, 2], 'array'], [null, 'null'],
    ])('rejects the nested value %p', (value, type) => {
      expect(validate(minimal({ attributes: { nested: value } })).problems)
        .toEqual([{ index: 0, field: 'attributes.nested', reason: `must be a string, number or boolean, got ${type}` }]);
    });

    it.each([[null], [['a']], ['a=1']])('rejects a non-object %p', (attributes) => {
      expect(validate(minimal({ attributes })).problems)
        .toEqual([{ index: 0, field: 'attributes', reason: 'must be a flat object of string, number or boolean values' }]);
    });

    it.each(['__proto__', 'constructor', 'prototype'])('rejects the prototype-polluting key %s (as JSON.parse makes it: an own property)', (key) => {
      const attributes = JSON.parse(`{"${key}": {"polluted": true}, "ok": 1}`) as Record<string, unknown>;
      expect(Object.keys(attributes)).toContain(key);
      const { event, problems } = validate(minimal({ attributes }));
      expect(event).toBeUndefined();
      expect(problems).toEqual([{ index: 0, field: `attributes.${key}`, reason: 'key must not be __proto__, constructor or prototype (prototype pollution)' }]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('accepts keys that merely contain those words', () => {
      expect(validate(minimal({ attributes: { proto: 1, constructorId: 'x', _prototype: true, __proto: 2 } })).problems).toEqual([]);
    });

    it.each([
      ['U+0000', 'a\u0000b'], ['a lone high surrogate', 'a\ud83d'], ['a lone low surrogate', '\ude00b'],
    ])('rejects a string value with %s (not storable in Postgres)', (_name, value) => {
      expect(validate(minimal({ attributes: { note: value } })).problems)
        .toEqual([{ index: 0, field: 'attributes.note', reason: 'string values must not contain U+0000 or unpaired surrogates (not storable in Postgres)' }]);
    });

    it('accepts other control characters and surrogate pairs in string values (free text)', () => {
      expect(validate(minimal({ attributes: { note: 'line 1\nline 2\t😀' } })).problems).toEqual([]);
    });

    it('echoes at most 100 characters of a huge attribute key', () => {
      expect(fieldsOf(minimal({ attributes: { ['k'.repeat(5000)]: 1 } }))).toEqual([`attributes.${'k'.repeat(100)}…`]);
    });

    it('reports every bad attribute, skipping the value check of a bad key', () => {
      expect(validate(minimal({ attributes: { ok: true, '1bad': { deep: 1 }, n: Infinity, s: 'x'.repeat(300) } })).problems).toEqual([
        { index: 0, field: 'attributes.1bad', reason: keyReason },
        { index: 0, field: 'attributes.n', reason: 'numbers must be finite' },
        { index: 0, field: 'attributes.s', reason: 'string values must be at most 256 characters' },
      ]);
    });
  });

  describe('hostile input never throws', () => {
    it('deeply nested values in attributes and location are rejected without recursion', () => {
      const deep = JSON.parse(`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`) as unknown;
      const deepArray = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
      expect(fieldsOf(minimal({ attributes: { x: deep, y: deepArray }, location: { lat: deep, lon: deepArray } })))
        .toEqual(['location.lat', 'location.lon', 'attributes.x', 'attributes.y']);
      expect(fieldsOf(deepArray)).toEqual(['']);
    });

    it('reports a huge attributes object once, without looking at every key', () => {
      expect(validate(minimal({ attributes: Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])) })).problems)
        .toEqual([{ index: 0, field: 'attributes', reason: 'must have at most 32 keys, got 100000' }]);
    });

    it('handles objects without a prototype, symbol keys and huge arrays', () => {
      const bare = Object.assign(Object.create(null) as Record<string, unknown>, minimal());
      expect(validate(bare).problems).toEqual([]);
      expect(validate(minimal({ attributes: { [Symbol('s')]: 1 } })).problems).toEqual([]);
      expect(fieldsOf(minimal({ attributes: new Array(1_000_000).fill(0) }))).toEqual(['attributes']);
    });

    it('returns violations, never throws, for any JSON value and any JavaScript value', () => {
      const anyEvent = fc.oneof(
        fc.jsonValue(),
        fc.anything({ withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withTypedArray: true, withSparseArray: true, withObjectString: true }),
        fc.dictionary(fc.constantFrom('eventId', 'occurredAt', 'accountId', 'amount', 'currency', 'merchantId', 'cardId', 'deviceId', 'ipAddress', 'country', 'location', 'channel', 'attributes', '__proto__', 'constructor'), fc.anything({ withNullPrototype: true })),
      );
      fc.assert(fc.property(anyEvent, (input) => {
        const problems: FieldViolation[] = [];
        const event = validateTransactionEvent(input, 0, problems);
        expect(event === undefined ? problems.length > 0 : problems.length === 0).toBe(true);
      }), { seed: 7, numRuns: 3000 });
    });
  });

  describe('several violations', () => {
    it('reports all of them together, in field order, each with the given index', () => {
      const input = { eventId: '', occurredAt: 1.5, amount: -1, currency: 'eur', merchantId: 'm\n', country: 'de', colour: 'red' };
      const { event, problems } = validate(input, 3);
      expect(event).toBeUndefined();
      expect(problems).toEqual([
        { index: 3, field: 'colour', reason: 'unknown field' },
        { index: 3, field: 'eventId', reason: 'must be 1-128 characters, got 0' },
        { index: 3, field: 'accountId', reason: 'is required' },
        { index: 3, field: 'merchantId', reason: 'must not contain control characters' },
        { index: 3, field: 'occurredAt', reason: TIME_REASON },
        { index: 3, field: 'amount', reason: 'must be a finite number > 0 and <= 1e15' },
        { index: 3, field: 'currency', reason: 'must be an ISO 4217 code of 3 upper-case letters' },
        { index: 3, field: 'country', reason: 'must be an ISO 3166-1 alpha-2 code of 2 upper-case letters' },
      ]);
    });

    it('reports every required field of an empty object', () => {
      expect(validate({}).problems).toEqual(
        ['eventId', 'accountId', 'merchantId', 'occurredAt', 'amount', 'currency'].map((field) => ({ index: 0, field, reason: 'is required' })),
      );
    });
  });
});

/** The Luhn check digit for `prefix`. */
function luhnDigit(prefix: string): number {
  let sum = 0;
  for (let i = prefix.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = Number(prefix[i]);
    if (double) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** `n` digits followed by their Luhn check digit. */
function withLuhn(n: number): string {
  const prefix = Array.from({ length: n }, (_, i) => String((i * 7 + 3) % 10)).join('');
  return prefix + luhnDigit(prefix);
}

/** Changes the last digit, so a valid Luhn number fails the check. */
function bump(digits: string): string {
  return digits.slice(0, -1) + ((Number(digits.at(-1)) + 1) % 10);
}
