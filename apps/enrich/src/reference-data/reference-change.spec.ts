import { parseReferenceChange } from './reference-change';

describe('parseReferenceChange', () => {
  it.each([
    ['accounts:acme:acc-1', { table: 'accounts', account: { tenantId: 'acme', accountId: 'acc-1' } }],
    // Tenant ids contain no ':': the first ':' of the key ends the tenant, the account id keeps the rest.
    ['accounts:acme:acc:with:colons', { table: 'accounts', account: { tenantId: 'acme', accountId: 'acc:with:colons' } }],
    ['accounts:acme::', { table: 'accounts', account: { tenantId: 'acme', accountId: ':' } }],
    ['accounts:acme:*', { table: 'accounts', account: { tenantId: 'acme', accountId: '*' } }],
    ['accounts:*', { table: 'accounts', account: null }],
    ['merchants:mer:with:colons', { table: 'merchants', key: 'mer:with:colons' }],
    ['fx_rates:EUR', { table: 'fx_rates', key: 'EUR' }],
    ['blocklist:ip:2001:db8::1', { table: 'blocklist', key: 'ip:2001:db8::1' }],
    ['merchants:*', { table: 'merchants', key: null }],
  ])('parses %p', (payload, expected) => {
    expect(parseReferenceChange(payload)).toEqual(expected);
  });

  it.each([
    [undefined], [''], ['accounts'], [':acc-1'], ['accounts:'], ['rules:r-1'], ['ACCOUNTS:a'],
    // Accounts need '<tenant>:<account>' with a valid tenant id and a non-empty account id.
    ['accounts:acc-1'], ['accounts:acme:'], ['accounts::acc-1'], ['accounts:Acme:acc-1'], ['accounts:a b:acc-1'],
  ])('returns undefined for %p', (payload) => {
    expect(parseReferenceChange(payload)).toBeUndefined();
  });
});
