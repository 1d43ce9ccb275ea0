import type { AuthenticatedCaller, Database } from '@streamguard/common';
import { AggregatesController } from './aggregates.controller';
import type { AggregateQuery, WindowResultsRepository } from './window-results.repository';

const caller = (tenantId: string, scopes: AuthenticatedCaller['scopes']): AuthenticatedCaller => ({ tenantId, keyId: 'k', scopes, limits: { ratePerSecond: 1, burst: 1 } });

describe('AggregatesController', () => {
  it.each([
    ['a tenant key', caller('acme', ['read'])],
    ['a platform admin key (results are always the caller\'s own tenant\'s)', caller('platform', ['read', 'admin'])],
  ])('queries the window results of the caller\'s tenant only, keeping the accountId filter, for %s', async (_name, who) => {
    const queries: AggregateQuery[] = [];
    const repository = { find: async (_db: unknown, query: AggregateQuery) => (queries.push(query), []) } as unknown as WindowResultsRepository;
    await new AggregatesController({} as Database, repository).list({ accountId: 'acc-1', definition: 'account-1m' }, who);
    expect(queries).toEqual([{ tenantId: who.tenantId, accountId: 'acc-1', definition: 'account-1m', groupKey: undefined, from: undefined, to: undefined, limit: 100 }]);
  });
});
