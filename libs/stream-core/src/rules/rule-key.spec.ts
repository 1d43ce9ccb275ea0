import { ruleKey } from './rule-key';

describe('ruleKey', () => {
  it('is the id of a global rule and id@tenant of a tenant rule', () => {
    expect(ruleKey({ id: 'velocity' })).toBe('velocity');
    expect(ruleKey({ id: 'velocity', tenantId: 'acme' })).toBe('velocity@acme');
  });

  // Rule ids match [a-z0-9][a-z0-9-_.]{0,63} (no '@', ':' or leading '_'); tenant ids are only checked to be non-empty.
  it('cannot be forged or broken by a tenant id containing separators', () => {
    const keys = [
      ruleKey({ id: 'a', tenantId: 'b@c' }), ruleKey({ id: 'a', tenantId: 'b' }), ruleKey({ id: 'a', tenantId: 'b:c' }), ruleKey({ id: 'a', tenantId: '_x' }),
      ruleKey({ id: 'a.b' }), ruleKey({ id: 'a' }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of keys) {
      expect(key).not.toContain(':');
      expect(key.startsWith('_')).toBe(false);
      expect(key.split('@').length).toBeLessThanOrEqual(2);
    }
  });
});
