import { parseReferenceChange } from './reference-change';

describe('parseReferenceChange', () => {
  it.each([
    ['accounts:acc-1', { table: 'accounts', key: 'acc-1' }],
    ['merchants:mer:with:colons', { table: 'merchants', key: 'mer:with:colons' }],
    ['fx_rates:EUR', { table: 'fx_rates', key: 'EUR' }],
    ['blocklist:ip:2001:db8::1', { table: 'blocklist', key: 'ip:2001:db8::1' }],
    ['accounts:*', { table: 'accounts', key: null }],
  ])('parses %p', (payload, expected) => {
    expect(parseReferenceChange(payload)).toEqual(expected);
  });

  it.each([[undefined], [''], ['accounts'], [':acc-1'], ['accounts:'], ['rules:r-1'], ['ACCOUNTS:a']])('returns undefined for %p', (payload) => {
    expect(parseReferenceChange(payload)).toBeUndefined();
  });
});
