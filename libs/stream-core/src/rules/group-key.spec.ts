import { MAX_GROUP_KEY_BYTES } from '../windowing/record-fields';
import { ACCOUNT_GROUP, groupKeyOf } from './group-key';
import { ev } from './test/fixtures';

describe('groupKeyOf', () => {
  it('joins percent-encoded field=value pairs, tenant first for the account group', () => {
    expect(groupKeyOf(ev('e1', 0, { merchantId: 'm|1=x' }), ACCOUNT_GROUP)).toBe('tenantId=acme|accountId=acc-1');
    expect(groupKeyOf(ev('e1', 0, { merchantId: 'm|1=x' }), ['tenantId', 'merchantId'])).toBe('tenantId=acme|merchantId=m%7C1%3Dx');
  });

  it('ignores the event (undefined) when a field is missing or not a scalar', () => {
    expect(groupKeyOf(ev('e1', 0, {}), ['tenantId', 'merchantId'])).toBeUndefined();
    expect(groupKeyOf(ev('e1', 0, { merchantId: { a: 1 } }), ['tenantId', 'merchantId'])).toBeUndefined();
  });

  it(`ignores the event when the key is longer than ${MAX_GROUP_KEY_BYTES} bytes: it is part of the Postgres keys of the rule's state`, () => {
    // 'tenantId=acme|merchantId=' is 25 bytes; each '€' is percent-encoded as 9 ASCII bytes.
    const prefix = 'tenantId=acme|merchantId='.length;
    const fits = 'x'.repeat(MAX_GROUP_KEY_BYTES - prefix);
    expect(groupKeyOf(ev('e1', 0, { merchantId: fits }), ['tenantId', 'merchantId'])).toHaveLength(MAX_GROUP_KEY_BYTES);
    expect(groupKeyOf(ev('e1', 0, { merchantId: `${fits}x` }), ['tenantId', 'merchantId'])).toBeUndefined();
    expect(groupKeyOf(ev('e1', 0, { merchantId: '€'.repeat(250) }), ['tenantId', 'merchantId'])).toBeUndefined();
  });

  it('always has a key for the account group of an event ingest accepts: 128 characters of 3 bytes, the longest tenant', () => {
    // Percent-encoded, each '中' is 9 bytes: 'tenantId=' + 63 + '|accountId=' + 128 × 9 = 1,235 bytes.
    const key = groupKeyOf(ev('e1', 0, {}, '中'.repeat(128), 't'.repeat(63)), ACCOUNT_GROUP);
    expect(key).toHaveLength(1_235);
  });
});
