import { recordKey, validateAccount, validateBlocklistEntry, validateFxRate, validateMerchant } from './reference-validation';

describe('validateAccount', () => {
  it('accepts a full account and defaults the optional fields', () => {
    expect(validateAccount({ accountId: 'acc-1', homeCountry: 'DE', riskTier: 'high', openedAt: '2020-02-29' }))
      .toEqual({ ok: true, record: { accountId: 'acc-1', homeCountry: 'DE', riskTier: 'high', openedAt: '2020-02-29' } });
    expect(validateAccount({ accountId: 'acc-2' })).toEqual({ ok: true, record: { accountId: 'acc-2', homeCountry: null, riskTier: 'standard', openedAt: null } });
    expect(validateAccount({ accountId: 'acc-3', homeCountry: null, openedAt: null })).toMatchObject({ ok: true, record: { homeCountry: null, openedAt: null } });
  });

  it('reports every problem with its field and reason', () => {
    expect(validateAccount({ homeCountry: 'de', riskTier: 'High Risk', openedAt: '2021-02-29', homecountry: 'DE' })).toEqual({
      ok: false,
      problems: [
        { field: 'homecountry', reason: 'unknown field' },
        { field: 'accountId', reason: 'is required' },
        { field: 'homeCountry', reason: 'must be an ISO 3166-1 alpha-2 code of 2 upper-case letters' },
        { field: 'riskTier', reason: 'must be 1-32 characters: a lower-case letter, then lower-case letters, digits, _ or -' },
        { field: 'openedAt', reason: 'must be an existing date from 1900-01-01' },
      ],
    });
  });

  it.each([
    ['a number id', { accountId: 7 }, 'accountId', 'must be a string, got number'],
    ['an empty id', { accountId: '' }, 'accountId', 'must be 1-128 characters, got 0'],
    ['a 129-character id', { accountId: 'x'.repeat(129) }, 'accountId', 'must be 1-128 characters, got 129'],
    ['a control character', { accountId: 'a\nb' }, 'accountId', 'must not contain control characters'],
    ['a date-time as opening date', { accountId: 'a', openedAt: '2020-01-01T00:00:00Z' }, 'openedAt', 'must be 1-10 characters, got 20'],
    ['a date before 1900', { accountId: 'a', openedAt: '1899-12-31' }, 'openedAt', 'must be an existing date from 1900-01-01'],
  ])('rejects %s', (_name, input, field, reason) => {
    expect(validateAccount(input)).toEqual({ ok: false, problems: [{ field, reason }] });
  });

  it.each([[null], [[]], ['acc-1'], [42]])('rejects a non-object %p', (input) => {
    expect(validateAccount(input)).toMatchObject({ ok: false, problems: [{ field: '' }] });
  });
});

describe('validateMerchant', () => {
  it('accepts a merchant with a category and a risk score at both bounds', () => {
    for (const riskScore of [0, 1]) {
      expect(validateMerchant({ merchantId: 'm', name: 'Shop', mcc: '5411', category: 'grocery', country: 'FR', riskScore }))
        .toEqual({ ok: true, record: { merchantId: 'm', name: 'Shop', mcc: '5411', category: 'grocery', country: 'FR', riskScore } });
    }
  });

  it.each([
    ['a 3-digit MCC', { mcc: '541' }, 'mcc', 'must be an ISO 18245 merchant category code of 4 digits'],
    ['a risk score above 1', { riskScore: 1.01 }, 'riskScore', 'must be from 0 to 1'],
    ['a negative risk score', { riskScore: -0.1 }, 'riskScore', 'must be from 0 to 1'],
    ['a risk score as text', { riskScore: '0.5' }, 'riskScore', 'must be a finite number, got string'],
    ['a lower-case country', { country: 'fr' }, 'country', 'must be an ISO 3166-1 alpha-2 code of 2 upper-case letters'],
  ])('rejects %s', (_name, fields, field, reason) => {
    expect(validateMerchant({ merchantId: 'm', ...fields })).toEqual({ ok: false, problems: [{ field, reason }] });
  });
});

describe('validateFxRate', () => {
  it('accepts a positive rate and USD at exactly 1', () => {
    expect(validateFxRate({ currency: 'EUR', usdRate: 1.08 })).toEqual({ ok: true, record: { currency: 'EUR', usdRate: 1.08 } });
    expect(validateFxRate({ currency: 'USD', usdRate: 1 })).toEqual({ ok: true, record: { currency: 'USD', usdRate: 1 } });
  });

  it.each([
    ['a zero rate', { currency: 'EUR', usdRate: 0 }, 'usdRate', 'must be > 0 and <= 1000000000'],
    ['a missing rate', { currency: 'EUR' }, 'usdRate', 'is required'],
    ['an infinite rate', { currency: 'EUR', usdRate: Infinity }, 'usdRate', 'must be a finite number, got number'],
    ['USD at 2', { currency: 'USD', usdRate: 2 }, 'usdRate', 'must be 1 for USD (the base currency)'],
    ['a lower-case code', { currency: 'eur', usdRate: 1 }, 'currency', 'must be an ISO 4217 code of 3 upper-case letters'],
  ])('rejects %s', (_name, input, field, reason) => {
    expect(validateFxRate(input)).toEqual({ ok: false, problems: [{ field, reason }] });
  });
});

describe('validateBlocklistEntry', () => {
  it.each([
    ['merchant', 'mer-9'], ['card', 'c/1:2'], ['device', 'dev-1'], ['ip', '203.0.113.7'], ['ip', '2001:db8::1'], ['country', 'KP'],
  ])('accepts a %s entry %p', (kind, value) => {
    expect(validateBlocklistEntry({ kind, value, reason: 'fraud ring' })).toEqual({ ok: true, record: { kind, value, reason: 'fraud ring' } });
  });

  it.each([
    ['an unknown kind', { kind: 'email', value: 'x', reason: 'r' }, [{ field: 'kind', reason: 'must be one of merchant, card, device, ip, country' }]],
    ['a bad IP', { kind: 'ip', value: '300.1.1.1', reason: 'r' }, [{ field: 'value', reason: 'must be an IPv4 or IPv6 address' }]],
    ['a bad country', { kind: 'country', value: 'North Korea', reason: 'r' }, [{ field: 'value', reason: 'must be 1-2 characters, got 11' }]],
    ['no reason', { kind: 'card', value: 'c-1' }, [{ field: 'reason', reason: 'is required' }]],
    ['an empty reason', { kind: 'card', value: 'c-1', reason: '' }, [{ field: 'reason', reason: 'must be 1-500 characters, got 0' }]],
  ])('rejects %s', (_name, input, problems) => {
    expect(validateBlocklistEntry(input)).toEqual({ ok: false, problems });
  });
});

describe('recordKey', () => {
  it('joins the key fields', () => {
    expect(recordKey('blocklist', { kind: 'ip', value: '2001:db8::1', reason: 'r' })).toBe('ip:2001:db8::1');
    expect(recordKey('accounts', { accountId: 'acc-1', homeCountry: null, riskTier: 'standard', openedAt: null })).toBe('acc-1');
  });
});
