/**
 * `npm run import` against the real Postgres, as a user runs it (the compiled command in its own process):
 * CSV and NDJSON files land in the tables (accounts in the tenant named by `--tenant`), a re-import changes
 * nothing, a file with one bad row imports nothing and names the line, field and reason, and the tables'
 * triggers notify enrich instances.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from '@streamguard/common';
import { uniqueTenant } from './support/service-stack';
import { testDatabase, testInfra, uniqueName } from './support/test-infra';
import { waitFor } from './support/wait-for';

const ROOT = join(__dirname, '..');

function runImport(kind: string, file: string, ...options: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'tools', 'import', 'src', 'import-main.js'), kind, file, ...options], {
      env: { ...process.env, DATABASE_URL: testInfra().databaseUrl }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('import command', () => {
  let db: Database;
  let dir: string;
  const run = uniqueName('imp');
  const tenant = uniqueTenant('imp');

  beforeAll(() => {
    db = testDatabase();
    dir = mkdtempSync(join(tmpdir(), 'streamguard-import-'));
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.close();
  });

  function file(name: string, content: string): string {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  }

  it('imports accounts from CSV into the --tenant (quoted cells, empty cells as null), then finds them unchanged on a re-import', async () => {
    const csv = file('accounts.csv', [
      'accountId,homeCountry,riskTier,openedAt',
      `${run}-a1,DE,standard,2019-04-02`,
      `"${run}-a2",FR,high,`,
      `${run}-a3,,,2021-01-31`,
    ].join('\r\n') + '\r\n');
    const first = await runImport('accounts', csv, '--tenant', tenant);
    expect([first.code, first.stdout]).toEqual([0, `imported accounts of tenant ${tenant} from ${csv}: 3 rows → 3 inserted, 0 updated, 0 unchanged (${first.stdout.match(/\(([\d.]+ s)\)/)?.[1]})\n`]);
    const { rows } = await db.query(
      `SELECT tenant_id, account_id, home_country, risk_tier, to_char(opened_at, 'YYYY-MM-DD') AS opened_at FROM accounts WHERE account_id LIKE $1 ORDER BY account_id`, [`${run}-a%`]);
    expect(rows).toEqual([
      { tenant_id: tenant, account_id: `${run}-a1`, home_country: 'DE', risk_tier: 'standard', opened_at: '2019-04-02' },
      { tenant_id: tenant, account_id: `${run}-a2`, home_country: 'FR', risk_tier: 'high', opened_at: null },
      { tenant_id: tenant, account_id: `${run}-a3`, home_country: null, risk_tier: 'standard', opened_at: '2021-01-31' },
    ]);
    expect((await runImport('accounts', csv, `--tenant=${tenant}`)).stdout).toContain('3 rows → 0 inserted, 0 updated, 3 unchanged');
  }, 20_000);

  it('imports the same account ids into another tenant as separate accounts, and notifies <tenant>:<account>', async () => {
    const other = uniqueTenant('imp');
    const listener = await db.connect();
    const payloads: string[] = [];
    listener.on('notification', (message) => payloads.push(message.payload ?? ''));
    await listener.query('LISTEN streamguard_reference');
    try {
      const ndjson = file('accounts.ndjson', [
        JSON.stringify({ accountId: `${run}-a1`, homeCountry: 'JP' }),
        JSON.stringify({ accountId: `${run}-b:1`, homeCountry: 'GB', riskTier: 'low' }),
      ].join('\n'));
      const result = await runImport('accounts', ndjson, '--tenant', other);
      expect([result.code, result.stderr]).toEqual([0, '']);
      expect(result.stdout).toContain('2 rows → 2 inserted, 0 updated, 0 unchanged');
      const { rows } = await db.query('SELECT tenant_id, account_id, home_country FROM accounts WHERE account_id = $1 ORDER BY home_country', [`${run}-a1`]);
      expect(rows).toEqual([{ tenant_id: tenant, account_id: `${run}-a1`, home_country: 'DE' }, { tenant_id: other, account_id: `${run}-a1`, home_country: 'JP' }]);
      await waitFor('notifications for both accounts', () => [`accounts:${other}:${run}-a1`, `accounts:${other}:${run}-b:1`].every((p) => payloads.includes(p)) || undefined, 5_000, 20);
    } finally {
      listener.removeAllListeners();
      listener.release();
    }
  }, 20_000);

  it('imports merchants from NDJSON, updating an existing one, and notifies streamguard_reference', async () => {
    await db.query('INSERT INTO merchants (merchant_id, name, risk_score) VALUES ($1, $2, 0.5)', [`${run}-m1`, 'Old Name']);
    const listener = await db.connect();
    const payloads: string[] = [];
    listener.on('notification', (message) => payloads.push(message.payload ?? ''));
    await listener.query('LISTEN streamguard_reference');
    try {
      const ndjson = file('merchants.ndjson', [
        JSON.stringify({ merchantId: `${run}-m1`, name: 'New Name', mcc: '5411', category: 'grocery', country: 'DE', riskScore: 0.1 }),
        '',
        JSON.stringify({ merchantId: `${run}-m2`, name: 'Casino', mcc: '7995', category: 'gambling', country: 'MT', riskScore: 0.7 }),
      ].join('\n'));
      const result = await runImport('merchants', ndjson);
      expect([result.code, result.stderr]).toEqual([0, '']);
      expect(result.stdout).toContain('2 rows → 1 inserted, 1 updated, 0 unchanged');
      const { rows } = await db.query('SELECT merchant_id, name, mcc, category, country, risk_score FROM merchants WHERE merchant_id LIKE $1 ORDER BY merchant_id', [`${run}-m%`]);
      expect(rows).toEqual([
        { merchant_id: `${run}-m1`, name: 'New Name', mcc: '5411', category: 'grocery', country: 'DE', risk_score: 0.1 },
        { merchant_id: `${run}-m2`, name: 'Casino', mcc: '7995', category: 'gambling', country: 'MT', risk_score: 0.7 },
      ]);
      await waitFor('notifications for both merchants', () => [`merchants:${run}-m1`, `merchants:${run}-m2`].every((p) => payloads.includes(p)) || undefined, 5_000, 20);
    } finally {
      listener.removeAllListeners();
      listener.release();
    }
  });

  it('imports nothing from a file with bad rows and reports each as file:line: field reason', async () => {
    const csv = file('bad.csv', [
      'currency,usdRate',
      'XTA,1.5',
      'xtb,2',
      'XTC,cheap',
      'USD,2',
      'XTD,1,extra',
    ].join('\n'));
    const result = await runImport('fx-rates', csv);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      `${csv}:3: currency must be an ISO 4217 code of 3 upper-case letters`,
      `${csv}:4: usdRate must be a finite number, got string`,
      `${csv}:5: usdRate must be 1 for USD (the base currency)`,
      `${csv}:6: has 3 cells; the header has 2`,
      `nothing imported: 4 problem(s) in ${csv} (5 rows read in ${result.stderr.match(/in ([\d.]+ s)\)/)?.[1]})`,
    ]);
    // The valid first row was rolled back with the rest.
    expect((await db.query('SELECT 1 FROM fx_rates WHERE currency = $1', ['XTA'])).rowCount).toBe(0);
  });

  it('imports blocklist entries in batches across a big file, with progress on stderr', async () => {
    const rows = 12_345;
    const lines = ['kind,value,reason'];
    for (let i = 0; i < rows; i++) lines.push(`device,${run}-dev-${i},"farm, batch ${Math.floor(i / 1000)}"`);
    const result = await runImport('blocklist', file('blocklist.csv', lines.join('\n')));
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('blocklist: 10,000 rows read, 10,000 written…');
    expect(result.stdout).toContain(`${rows} rows → ${rows} inserted`);
    const { rows: count } = await db.query<{ n: string }>('SELECT count(*) AS n FROM blocklist WHERE kind = $1 AND value LIKE $2', ['device', `${run}-dev-%`]);
    expect(Number(count[0].n)).toBe(rows);
    await db.query('DELETE FROM blocklist WHERE kind = $1 AND value LIKE $2', ['device', `${run}-dev-%`]);
  });

  it('refuses bad usage with exit code 2, importing nothing', async () => {
    expect(await runImport('widgets', 'x.csv')).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown kind "widgets"') });
    expect(await runImport('accounts', file('x.json', '{}'), '--tenant', tenant)).toMatchObject({ code: 2, stderr: expect.stringContaining('name it *.csv or *.ndjson') });
    // Accounts belong to a tenant; the other kinds are platform data and take none.
    const accounts = file('usage-accounts.csv', `accountId,homeCountry\n${run}-u1,DE\n`);
    expect(await runImport('accounts', accounts)).toMatchObject({ code: 2, stderr: expect.stringContaining('accounts belong to a tenant: add --tenant <id>') });
    expect(await runImport('accounts', accounts, '--tenant', 'Not-Valid')).toMatchObject({ code: 2, stderr: expect.stringContaining('tenant "Not-Valid" is not a valid tenant id') });
    const merchants = file('usage-merchants.csv', `merchantId,name\n${run}-u1,Shop\n`);
    expect(await runImport('merchants', merchants, '--tenant', tenant)).toMatchObject({ code: 2, stderr: expect.stringContaining('merchants are platform data shared by all tenants') });
    expect((await db.query('SELECT 1 FROM accounts WHERE account_id = $1', [`${run}-u1`])).rowCount).toBe(0);
    expect((await db.query('SELECT 1 FROM merchants WHERE merchant_id = $1', [`${run}-u1`])).rowCount).toBe(0);
  }, 30_000); // five runs of the command, each a new Node process
});
