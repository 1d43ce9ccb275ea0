import type { Queryable } from '@streamguard/common';
import { ReferenceDataRepository } from './reference-data.repository';

/** Records every statement; answers with no rows. (The SQL itself runs against Postgres in the integration tests.) */
function recordingDb() {
  const statements: Array<{ sql: string; params: unknown[] }> = [];
  const db: Queryable = {
    query: async <R>(sql: string, params: unknown[] = []) => {
      statements.push({ sql: sql.replace(/\s+/g, ' ').trim(), params });
      return { rows: [] as R[], rowCount: 0 };
    },
  };
  return { db, statements };
}

const ACCOUNT = { accountId: 'acc-1', homeCountry: 'DE', riskTier: 'standard', openedAt: null };

describe('ReferenceDataRepository tenancy', () => {
  it('scopes every accounts statement to the tenant (first parameter), and writes the tenant with the rows', async () => {
    const { db, statements } = recordingDb();
    const repository = new ReferenceDataRepository(db);
    await repository.get('accounts', ['acc-1'], 'acme');
    await repository.delete('accounts', ['acc-1'], 'acme');
    await repository.list('accounts', 10, { tenantId: 'acme', after: ['acc-0'] });
    await repository.upsert('accounts', [ACCOUNT], { tenantId: 'acme' });
    expect(statements.map((s) => s.params)).toEqual([
      ['acme', 'acc-1'],
      ['acme', 'acc-1'],
      ['acme', 'acc-0', 10],
      [['acc-1'], ['DE'], ['standard'], [null], 'acme'],
    ]);
    expect(statements[0].sql).toContain('WHERE tenant_id = $1 AND account_id = $2');
    expect(statements[1].sql).toContain('WHERE tenant_id = $1 AND account_id = $2');
    expect(statements[2].sql).toContain('WHERE tenant_id = $1 AND (account_id) > ($2) ORDER BY account_id LIMIT $3');
    expect(statements[3].sql).toContain('INSERT INTO accounts (tenant_id, account_id, home_country, risk_tier, opened_at) SELECT $5::text, u.* FROM unnest(');
    expect(statements[3].sql).toContain('ON CONFLICT (tenant_id, account_id) DO UPDATE');
  });

  it('fails closed: an accounts call without a tenant never reaches Postgres', async () => {
    const { db, statements } = recordingDb();
    const repository = new ReferenceDataRepository(db);
    await expect(repository.get('accounts', ['acc-1'])).rejects.toThrow('accounts belong to a tenant');
    await expect(repository.delete('accounts', ['acc-1'])).rejects.toThrow('accounts belong to a tenant');
    await expect(repository.list('accounts', 10)).rejects.toThrow('accounts belong to a tenant');
    await expect(repository.upsert('accounts', [ACCOUNT])).rejects.toThrow('accounts belong to a tenant');
    await expect(repository.upsert('accounts', [])).rejects.toThrow('accounts belong to a tenant');
    expect(statements).toEqual([]);
  });

  it('takes no tenant for platform data', async () => {
    const { db, statements } = recordingDb();
    const repository = new ReferenceDataRepository(db);
    await repository.get('merchants', ['m-1']);
    await repository.list('blocklist', 5, { kind: 'card', after: ['card', 'c-1'] });
    await repository.upsert('fx-rates', [{ currency: 'EUR', usdRate: 1.08 }]);
    expect(statements.map((s) => s.params)).toEqual([['m-1'], ['card', 'c-1', 'card', 5], [['EUR'], [1.08]]]);
    expect(statements[1].sql).toContain('WHERE (kind, value) > ($1, $2) AND kind = $3 ORDER BY kind, value LIMIT $4');
    await expect(repository.get('merchants', ['m-1'], 'acme')).rejects.toThrow('merchants are platform data shared by all tenants');
    await expect(repository.upsert('blocklist', [], { tenantId: 'acme' })).rejects.toThrow('blocklist are platform data');
  });
});
