import { compareValues, getFieldValue, matchesAll, matchesFilter } from './filters';
import { ev } from './test/fixtures';

describe('getFieldValue', () => {
  const event = ev('e-1', 1000, {
    amountUsd: 12.5,
    accountId: 'spoofed',
    merchant: { riskScore: 0.9, mcc: '5999' },
    blocklistHits: [{ kind: 'card', value: 'c-1' }],
    nothing: null,
  });

  it('walks dot paths into value', () => {
    expect(getFieldValue(event, 'amountUsd')).toBe(12.5);
    expect(getFieldValue(event, 'merchant.riskScore')).toBe(0.9);
    expect(getFieldValue(event, 'blocklistHits.0.kind')).toBe('card');
  });

  it('resolves accountId, eventId and eventTime to the event itself (authoritative over value)', () => {
    expect(getFieldValue(event, 'accountId')).toBe('acc-1');
    expect(getFieldValue(event, 'eventId')).toBe('e-1');
    expect(getFieldValue(event, 'eventTime')).toBe(1000);
  });

  it('returns undefined for missing steps, non-objects and bad indexes', () => {
    expect(getFieldValue(event, 'merchant.country')).toBeUndefined();
    expect(getFieldValue(event, 'amountUsd.x')).toBeUndefined();
    expect(getFieldValue(event, 'nothing.x')).toBeUndefined();
    expect(getFieldValue(event, 'blocklistHits.01')).toBeUndefined();
    expect(getFieldValue(event, 'blocklistHits.length')).toBeUndefined();
  });

  it('never reads the prototype chain', () => {
    expect(getFieldValue(event, 'toString')).toBeUndefined();
    expect(getFieldValue(event, 'merchant.hasOwnProperty')).toBeUndefined();
  });
});

describe('compareValues', () => {
  it.each([
    [5, '>', 4, true],
    [5, '>', 5, false],
    [5, '>=', 5, true],
    [5, '<', 5, false],
    [5, '<=', 5, true],
    [5, '==', 5, true],
    [5, '!=', 5, false],
    ['b', '>', 'a', true],
    ['B', '>', 'a', false], // code units, not locale
    ['x', '==', 'x', true],
    [true, '==', true, true],
  ] as const)('%p %s %p -> %p', (a, op, b, expected) => {
    expect(compareValues(a, op, b)).toBe(expected);
  });

  it('does not coerce types', () => {
    expect(compareValues('5', '==', 5)).toBe(false);
    expect(compareValues('5', '!=', 5)).toBe(true);
    expect(compareValues('10', '>', 5)).toBe(false);
    expect(compareValues(10, '<', '5')).toBe(false);
    expect(compareValues({}, '>', 1)).toBe(false);
    expect(compareValues(Number.NaN, '<', 1)).toBe(false);
  });
});

describe('matchesFilter', () => {
  const event = ev('e', 0, { country: 'FR', amountUsd: 10, channel: null });

  it('supports in / notIn with strict membership', () => {
    expect(matchesFilter(event, { field: 'country', op: 'in', value: ['FR', 'DE'] })).toBe(true);
    expect(matchesFilter(event, { field: 'country', op: 'notIn', value: ['FR'] })).toBe(false);
    expect(matchesFilter(event, { field: 'amountUsd', op: 'in', value: ['10'] })).toBe(false);
  });

  it('supports exists, with null counting as absent', () => {
    expect(matchesFilter(event, { field: 'country', op: 'exists' })).toBe(true);
    expect(matchesFilter(event, { field: 'country', op: 'exists', value: true })).toBe(true);
    expect(matchesFilter(event, { field: 'channel', op: 'exists' })).toBe(false);
    expect(matchesFilter(event, { field: 'channel', op: 'exists', value: false })).toBe(true);
    expect(matchesFilter(event, { field: 'missing', op: 'exists', value: false })).toBe(true);
  });

  it('fails every other operator on a missing or null field, including != and notIn', () => {
    for (const field of ['missing', 'channel']) {
      expect(matchesFilter(event, { field, op: '!=', value: 'x' })).toBe(false);
      expect(matchesFilter(event, { field, op: 'notIn', value: ['x'] })).toBe(false);
      expect(matchesFilter(event, { field, op: '<', value: 1 })).toBe(false);
    }
  });

  it('ANDs a list; an empty or absent list passes', () => {
    expect(matchesAll(event, undefined)).toBe(true);
    expect(matchesAll(event, [])).toBe(true);
    expect(matchesAll(event, [{ field: 'country', op: '==', value: 'FR' }, { field: 'amountUsd', op: '>', value: 5 }])).toBe(true);
    expect(matchesAll(event, [{ field: 'country', op: '==', value: 'FR' }, { field: 'amountUsd', op: '>', value: 50 }])).toBe(false);
  });
});
