/**
 * Least privilege in Postgres: each service's role (created by migration 0004) can do its own work and
 * nothing else — no other service's tables, no DDL.
 */
import { Client } from 'pg';
import { randomBytes } from 'node:crypto';
import { testInfra, uniqueName } from './support/test-infra';

type Role = 'streamguard_ingest' | 'streamguard_enrich' | 'streamguard_aggregate' | 'streamguard_alert' | 'streamguard_readonly';

describe('Postgres service roles', () => {
  const admin = () => new Client({ connectionString: testInfra().databaseUrl });
  const users: string[] = [];

  /** A login user in the service's group role, as a deployment would create it. */
  async function connectAs(role: Role): Promise<Client> {
    const user = uniqueName('u').replace(/-/g, '_');
    const password = randomBytes(12).toString('hex');
    const owner = admin();
    await owner.connect();
    await owner.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password}' IN ROLE ${role}`);
    await owner.end();
    users.push(user);
    const url = new URL(testInfra().databaseUrl);
    url.username = user;
    url.password = password;
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    return client;
  }

  afterAll(async () => {
    const owner = admin();
    await owner.connect();
    for (const user of users) await owner.query(`DROP ROLE IF EXISTS ${user}`);
    await owner.end();
  });

  async function denied(client: Client, sql: string): Promise<string> {
    const error = await client.query(sql).then(() => undefined, (e: Error & { code?: string }) => e);
    expect({ sql, code: error?.code }).toEqual({ sql, code: expect.stringMatching(/^(42501)$/) }); // insufficient_privilege
    return error!.message;
  }

  it('enrich manages reference data and nothing else', async () => {
    const client = await connectAs('streamguard_enrich');
    try {
      const id = uniqueName('acc');
      await client.query(`INSERT INTO accounts (tenant_id, account_id, home_country) VALUES ('t', $1, 'DE')`, [id]);
      expect((await client.query(`SELECT home_country FROM accounts WHERE tenant_id = 't' AND account_id = $1`, [id])).rows).toEqual([{ home_country: 'DE' }]);
      await client.query(`DELETE FROM accounts WHERE tenant_id = 't' AND account_id = $1`, [id]);
      await denied(client, `INSERT INTO alerts (alert_id, rule_id, rule_version, rule_type, severity, account_id, group_key, event_ids, occurred_at, detected_at, explanation) VALUES ('x','r',1,'t','low','a','g','{}',now(),now(),'{}')`);
      await denied(client, 'SELECT * FROM window_results LIMIT 1');
      await denied(client, 'UPDATE rules SET status = status');
      await denied(client, 'CREATE TABLE sneaky (id int)');
      await denied(client, 'DROP TABLE accounts');
    } finally {
      await client.end();
    }
  });

  it('aggregate writes its windows and stage state, not alerts, rules or reference data', async () => {
    const client = await connectAs('streamguard_aggregate');
    try {
      await client.query('SELECT count(*) FROM operator_state');
      await client.query('SELECT count(*) FROM window_results');
      await denied(client, 'SELECT * FROM alerts LIMIT 1');
      await denied(client, 'DELETE FROM rules');
      await denied(client, 'UPDATE accounts SET risk_tier = risk_tier');
      await denied(client, 'ALTER TABLE window_results ADD COLUMN x int');
    } finally {
      await client.end();
    }
  });

  it('alert writes alerts and rules, not windows or reference data; alerts are append-only', async () => {
    const client = await connectAs('streamguard_alert');
    try {
      await client.query('SELECT count(*) FROM rules');
      await denied(client, 'DELETE FROM alerts');
      await denied(client, 'UPDATE window_results SET version = version');
      await denied(client, 'DELETE FROM blocklist');
      await denied(client, 'CREATE INDEX sneaky ON alerts (severity)');
    } finally {
      await client.end();
    }
  });

  it('ingest only reads API keys; the read-only role only reads results and never sees key hashes', async () => {
    const ingest = await connectAs('streamguard_ingest');
    try {
      await ingest.query('SELECT count(*) FROM api_keys');
      await denied(ingest, `INSERT INTO api_keys (key_id, tenant_id, scopes, token_sha256) VALUES ('x', 't', '{admin}', '\\x00')`);
      await denied(ingest, 'UPDATE api_keys SET revoked_at = NULL');
      await denied(ingest, 'SELECT * FROM accounts LIMIT 1');
      await denied(ingest, 'SELECT * FROM alerts LIMIT 1');
      await denied(ingest, 'CREATE TABLE sneaky (id int)');
    } finally {
      await ingest.end();
    }
    const readonly = await connectAs('streamguard_readonly');
    try {
      await readonly.query('SELECT count(*) FROM alerts');
      await readonly.query('SELECT count(*) FROM window_results');
      await denied(readonly, 'SELECT * FROM accounts LIMIT 1');
      await denied(readonly, 'SELECT * FROM api_keys LIMIT 1');
      await denied(readonly, 'DELETE FROM alerts');
    } finally {
      await readonly.end();
    }
  });

  it('only enrich (the key API) writes API keys; nobody can delete them', async () => {
    const enrich = await connectAs('streamguard_enrich');
    const alert = await connectAs('streamguard_alert');
    try {
      const keyId = uniqueName('k');
      await enrich.query(`INSERT INTO api_keys (key_id, tenant_id, scopes, token_sha256) VALUES ($1, 't', '{read}', '\\x00')`, [keyId]);
      await enrich.query('UPDATE api_keys SET revoked_at = now() WHERE key_id = $1', [keyId]);
      await denied(enrich, 'DELETE FROM api_keys');
      await alert.query('SELECT count(*) FROM api_keys');
      await denied(alert, 'UPDATE api_keys SET revoked_at = NULL');
    } finally {
      await enrich.end();
      await alert.end();
    }
  });
});
