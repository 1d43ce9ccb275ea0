import type { AccountProfile, BlocklistHit, BlocklistKind, MerchantProfile, Queryable } from '@streamguard/common';
import type { AccountRef } from './reference-change';
import { accountKey, ReferenceDataReader } from './reference-data';

/** Postgres adapter of ReferenceDataReader: one query per kind per batch (`= ANY($1)` or a join with `unnest`). */
export class PostgresReferenceData implements ReferenceDataReader {
  constructor(private readonly db: Queryable) {}

  /** Each account is looked up in its own tenant's rows only (primary key `(tenant_id, account_id)`). */
  async accounts(refs: AccountRef[]): Promise<Map<string, AccountProfile>> {
    const out = new Map<string, AccountProfile>();
    if (refs.length === 0) return out;
    const { rows } = await this.db.query<{ tenant_id: string; account_id: string; home_country: string | null; risk_tier: string | null; opened_at: string | null }>(
      `SELECT a.tenant_id, a.account_id, a.home_country, a.risk_tier, to_char(a.opened_at, 'YYYY-MM-DD') AS opened_at FROM accounts a
       JOIN unnest($1::text[], $2::text[]) AS q(tenant_id, account_id) ON a.tenant_id = q.tenant_id AND a.account_id = q.account_id`,
      [refs.map((r) => r.tenantId), refs.map((r) => r.accountId)],
    );
    for (const r of rows) out.set(accountKey(r.tenant_id, r.account_id), { homeCountry: r.home_country, riskTier: r.risk_tier, openedAt: r.opened_at });
    return out;
  }

  async merchants(ids: string[]): Promise<Map<string, MerchantProfile>> {
    const out = new Map<string, MerchantProfile>();
    if (ids.length === 0) return out;
    const { rows } = await this.db.query<{ merchant_id: string; name: string | null; mcc: string | null; category: string | null; country: string | null; risk_score: number | null }>(
      'SELECT merchant_id, name, mcc, category, country, risk_score FROM merchants WHERE merchant_id = ANY($1::text[])', [ids],
    );
    for (const r of rows) out.set(r.merchant_id, { name: r.name, mcc: r.mcc, category: r.category, country: r.country, riskScore: r.risk_score });
    return out;
  }

  async fxRates(): Promise<Map<string, number>> {
    const { rows } = await this.db.query<{ currency: string; usd_rate: number }>('SELECT currency, usd_rate FROM fx_rates');
    return new Map(rows.map((r) => [r.currency, Number(r.usd_rate)]));
  }

  async blocklistHits(candidates: Array<{ kind: BlocklistKind; value: string }>): Promise<BlocklistHit[]> {
    if (candidates.length === 0) return [];
    const { rows } = await this.db.query<{ kind: BlocklistKind; value: string; reason: string }>(
      `SELECT b.kind, b.value, b.reason FROM blocklist b
       JOIN unnest($1::text[], $2::text[]) AS q(kind, value) ON b.kind = q.kind AND b.value = q.value`,
      [candidates.map((c) => c.kind), candidates.map((c) => c.value)],
    );
    return rows;
  }
}
