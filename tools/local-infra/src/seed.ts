/**
 * Demo reference data and default rules, so a fresh `npm start` produces meaningful enrichment and alerts.
 * Idempotent: existing rows are left alone (a user's edits survive restarts).
 *
 * Accounts are per tenant: the demo accounts belong to {@link DEMO_TENANT}, the tenant of the key `npm start`
 * prints, so that key's events for `acc-1`…`acc-4` are enriched with them (another tenant's are not).
 * Merchants, FX rates and the blocklist are platform data shared by all tenants.
 */
import type { Queryable } from '@streamguard/common';
import { DEFAULT_RULES } from '@streamguard/stream-core';
import { DEMO_TENANT } from './dev-keys';

/** Accounts of {@link DEMO_TENANT}. */
export const DEMO_ACCOUNTS = [
  { id: 'acc-1', homeCountry: 'DE', riskTier: 'standard', openedAt: '2019-04-02' },
  { id: 'acc-2', homeCountry: 'FR', riskTier: 'standard', openedAt: '2021-09-15' },
  { id: 'acc-3', homeCountry: 'US', riskTier: 'high', openedAt: '2025-12-01' },
  { id: 'acc-4', homeCountry: 'GB', riskTier: 'low', openedAt: '2015-01-20' },
];

export const DEMO_MERCHANTS = [
  { id: 'mer-1', name: 'Corner Grocery', mcc: '5411', country: 'DE', riskScore: 0.1 },
  { id: 'mer-2', name: 'Fly Away Airlines', mcc: '4511', country: 'FR', riskScore: 0.3 },
  { id: 'mer-3', name: 'Gift Cards 24/7', mcc: '5999', country: 'US', riskScore: 0.8 },
  { id: 'mer-4', name: 'Book Nook', mcc: '5942', country: 'GB', riskScore: 0.05 },
];

export const DEMO_FX_RATES: Array<[string, number]> = [
  ['USD', 1], ['EUR', 1.08], ['GBP', 1.27], ['CHF', 1.13], ['JPY', 0.0067], ['CAD', 0.73],
];

export async function seedDemoData(db: Queryable): Promise<void> {
  await db.query(
    `INSERT INTO accounts (tenant_id, account_id, home_country, risk_tier, opened_at)
     SELECT $1::text, u.* FROM unnest($2::text[], $3::text[], $4::text[], $5::date[]) AS u ON CONFLICT DO NOTHING`,
    [DEMO_TENANT, DEMO_ACCOUNTS.map((a) => a.id), DEMO_ACCOUNTS.map((a) => a.homeCountry), DEMO_ACCOUNTS.map((a) => a.riskTier), DEMO_ACCOUNTS.map((a) => a.openedAt)],
  );
  await db.query(
    `INSERT INTO merchants (merchant_id, name, mcc, country, risk_score)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[]) ON CONFLICT DO NOTHING`,
    [DEMO_MERCHANTS.map((m) => m.id), DEMO_MERCHANTS.map((m) => m.name), DEMO_MERCHANTS.map((m) => m.mcc), DEMO_MERCHANTS.map((m) => m.country), DEMO_MERCHANTS.map((m) => m.riskScore)],
  );
  await db.query(
    'INSERT INTO fx_rates (currency, usd_rate) SELECT * FROM unnest($1::text[], $2::float8[]) ON CONFLICT DO NOTHING',
    [DEMO_FX_RATES.map(([c]) => c), DEMO_FX_RATES.map(([, r]) => r)],
  );
  await db.query(
    `INSERT INTO blocklist (kind, value, reason) VALUES ('merchant', 'mer-blocked', 'known fraudulent merchant (demo)') ON CONFLICT DO NOTHING`,
  );
  // Global rules, each only while no rule of any owner has its id: a tenant's rule with the same id would
  // otherwise meet a global twin on its own events (the rules API refuses that pairing with 409).
  for (const rule of DEFAULT_RULES) {
    await db.query(
      `INSERT INTO rules (rule_id, version, type, status, definition) SELECT $1, $2, $3, $4, $5
       WHERE NOT EXISTS (SELECT 1 FROM rules WHERE rule_id = $1)`,
      [rule.id, rule.version, rule.type, rule.status, JSON.stringify(rule)],
    );
  }
}
