import type { AuthenticatedCaller, Database } from '@streamguard/common';
import { AlertsController } from './alerts.controller';
import type { AlertQuery, AlertsRepository } from './alerts.repository';

const caller = (tenantId: string, scopes: AuthenticatedCaller['scopes']): AuthenticatedCaller => ({ tenantId, keyId: 'k', scopes, limits: { ratePerSecond: 1, burst: 1 } });

describe('AlertsController', () => {
  it.each([
    ['a tenant key', caller('acme', ['read'])],
    ['a platform admin key (alerts are always the caller\'s own tenant\'s)', caller('platform', ['read', 'admin'])],
  ])('queries the alerts of the caller\'s tenant only, for %s', async (_name, who) => {
    const queries: AlertQuery[] = [];
    const repository = { find: async (_db: unknown, query: AlertQuery) => (queries.push(query), []) } as unknown as AlertsRepository;
    await new AlertsController({} as Database, repository).list({ accountId: 'acc-1' }, who);
    expect(queries).toEqual([{ tenantId: who.tenantId, accountId: 'acc-1', ruleId: undefined, from: undefined, to: undefined, limit: 100 }]);
  });
});
