import type { Principal } from '@streamguard/common';
import { canSeeRule, decideRuleChange, tenantOfNewRule } from './rule-access';

const acmeAdmin: Principal = { tenantId: 'acme', keyId: 'k-acme', scopes: ['admin'] };
const platformAdmin: Principal = { tenantId: 'platform', keyId: 'k-platform', scopes: ['admin'] };
const GLOBAL = {};
const ACME = { tenantId: 'acme' };
const GLOBEX = { tenantId: 'globex' };

describe('rule access', () => {
  it.each([
    ['a tenant admin', acmeAdmin, GLOBAL, true, 'global-rule'],
    ['a tenant admin', acmeAdmin, ACME, true, 'allowed'],
    ['a tenant admin', acmeAdmin, GLOBEX, false, 'not-found'],
    ['a platform admin', platformAdmin, GLOBAL, true, 'allowed'],
    ['a platform admin', platformAdmin, ACME, true, 'allowed'],
  ])('%s, rule %j: sees %p, change → %s', (_who, caller, rule, sees, change) => {
    expect(canSeeRule(caller, rule)).toBe(sees);
    expect(decideRuleChange(caller, rule)).toBe(change);
  });

  it('creates global rules for the platform and tenant rules for everyone else', () => {
    expect(tenantOfNewRule(platformAdmin)).toBeUndefined();
    expect(tenantOfNewRule(acmeAdmin)).toBe('acme');
    // A platform key without admin scope is not a platform admin (it cannot reach the rules API anyway).
    expect(tenantOfNewRule({ ...platformAdmin, scopes: ['read'] })).toBe('platform');
  });
});
