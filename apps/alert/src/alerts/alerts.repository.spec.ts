import type { Queryable } from '@streamguard/common';
import { AlertQuery, AlertsRepository } from './alerts.repository';

/** A Queryable that records every statement and answers with no rows. */
function recorder() {
  const queries: Array<{ sql: string; params: unknown[] }> = [];
  const db: Queryable = { query: async (sql: string, params: unknown[] = []) => (queries.push({ sql, params }), { rows: [], rowCount: 0 }) } as Queryable;
  return { db, queries };
}

describe('AlertsRepository.find', () => {
  it('always reads one tenant: the tenant condition is there with or without other filters', async () => {
    const { db, queries } = recorder();
    const repository = new AlertsRepository();
    await repository.find(db, { tenantId: 'acme', limit: 10 });
    await repository.find(db, { tenantId: 'acme', accountId: 'acc-1', ruleId: 'r', from: 1, to: 2, limit: 10 });
    expect(queries[0].sql).toMatch(/FROM alerts WHERE tenant_id = \$1 ORDER BY/);
    expect(queries[0].params).toEqual(['acme', 10]);
    expect(queries[1].sql).toMatch(/FROM alerts WHERE tenant_id = \$1 AND account_id = \$2 AND rule_id = \$3 AND /);
    expect(queries[1].params).toEqual(['acme', 'acc-1', 'r', 1, 2, 10]);
  });

  it.each([['undefined', undefined], ['empty', ''], ['not a string', 42], ['null', null]])('throws for a tenantId that is %s, without querying', async (_name, tenantId) => {
    const { db, queries } = recorder();
    await expect(new AlertsRepository().find(db, { tenantId, limit: 10 } as unknown as AlertQuery)).rejects.toThrow(/tenantId must be a non-empty string/);
    expect(queries).toEqual([]);
  });
});
