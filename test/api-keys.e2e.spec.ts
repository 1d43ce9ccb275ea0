/**
 * API keys, scopes, tenancy and rate limits on the four services as processes over the real broker and
 * Postgres: keys made by the CLI and by the key API, 401/403 precisely, revocation reaching a running
 * service, each tenant seeing only its own alerts and aggregates, and one tenant's 429s not touching another.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AggregateResultMessage, AlertMessage, KafkaPort, TopicNames, Database } from '@streamguard/common';
import { REPO_ROOT } from '../tools/local-infra/src/paths';
import { AuthHeaders, bearer, createApiKey, ServiceStack, uniqueTenant } from './support/service-stack';
import { getJson, postEvents, sendJson } from './support/http';
import { createTestTopics, testDatabase, testInfra, testKafka, uniqueName } from './support/test-infra';
import { waitFor } from './support/wait-for';

const run = promisify(execFile);

/** Runs `npm run keys -- …` (the compiled CLI) against the test Postgres. */
async function keysCli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [join(REPO_ROOT, 'dist', 'tools', 'admin', 'src', 'admin-main.js'), 'keys', ...args], {
    env: { ...process.env, DATABASE_URL: testInfra().databaseUrl }, timeout: 30_000,
  });
}

interface ErrorBody {
  error: { code: string; message: string };
}

describe('API keys, tenancy and rate limits', () => {
  let kafka: KafkaPort;
  let db: Database;
  let topics: TopicNames;
  let stack: ServiceStack;
  const tag = uniqueName('keys');

  beforeAll(async () => {
    kafka = testKafka();
    db = testDatabase();
    topics = await createTestTopics(kafka, 2);
    // The watermark moves with event time only (no idle rule): the tenant test closes its window with a later
    // event instead of waiting for the partition to go quiet, whose timing would decide whether its events,
    // ten minutes old, are still on time (an idle partition's watermark jumps to the present).
    stack = await new ServiceStack({ topics, env: { WATERMARK_IDLE_TIMEOUT_MS: '0', WATERMARK_MAX_OUT_OF_ORDERNESS_MS: '2000', AGGREGATE_TICK_MS: '200', ALERT_TICK_MS: '200' } }).start();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await db?.close();
  }, 60_000);

  const event = (id: string, accountId: string, amount = 10, occurredAt = Date.now() - 10 * 60_000) =>
    ({ eventId: `${tag}-${id}`, occurredAt, accountId, amount, currency: 'USD', merchantId: 'mer-1' });

  async function postOne(auth: AuthHeaders | Record<string, string>, id: string): Promise<{ status: number; body: unknown; headers: Headers }> {
    return sendJson('POST', `${stack.url('ingest')}/v1/events`, auth as AuthHeaders, event(id, `${tag}-acc`));
  }

  it('a key created by the CLI works; the token is printed once and stored only as a hash', async () => {
    const tenant = uniqueTenant();
    const created = await keysCli('create', '--tenant', tenant, '--scopes', 'ingest,read', '--name', 'ci');
    const token = created.stdout.trim();
    expect(token).toMatch(/^sg_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const keyId = token.split('_')[1];
    expect(created.stderr).toContain(keyId);
    expect(created.stderr).not.toContain(token);

    expect((await postOne(bearer(token), 'cli-1')).status).toBe(202);
    expect((await sendJson('POST', `${stack.url('ingest')}/v1/events`, { 'x-api-key': token } as unknown as AuthHeaders, event('cli-2', 'a'))).status).toBe(202);

    const listed = await keysCli('list', '--tenant', tenant);
    expect(listed.stdout).toContain(keyId);
    expect(listed.stdout).not.toContain(token.slice(20));
    // The row holds SHA-256 of the token and nothing from which the token could be read back.
    const { rows } = await db.query<Record<string, unknown>>('SELECT * FROM api_keys WHERE key_id = $1', [keyId]);
    expect(rows).toHaveLength(1);
    expect(Buffer.from(rows[0].token_sha256 as Uint8Array).toString('hex')).toBe(createHash('sha256').update(token).digest('hex'));
    const secret = token.slice(`sg_${keyId}_`.length);
    for (const [column, value] of Object.entries(rows[0])) {
      const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
      expect({ column, holdsSecret: bytes.includes(secret) || bytes.includes(Buffer.from(secret, 'base64url')) }).toEqual({ column, holdsSecret: false });
    }
  }, 60_000);

  it('answers 401 for a missing, malformed or unknown key and 403 for a missing scope', async () => {
    const missing = await postOne({}, 'no-key');
    expect([missing.status, (missing.body as ErrorBody).error.code, missing.headers.get('www-authenticate')]).toEqual([401, 'API_KEY_REQUIRED', 'Bearer']);
    expect(((await postOne({ authorization: 'Bearer nonsense' }, 'bad')).body as ErrorBody).error.code).toBe('API_KEY_INVALID');
    const real = stack.auth.authorization.slice('Bearer '.length);
    const tampered = `${real.slice(0, -1)}${real.endsWith('A') ? 'B' : 'A'}`;
    expect(await postOne(bearer(tampered), 'tampered')).toMatchObject({ status: 401, body: { error: { code: 'API_KEY_INVALID' } } });
    expect(await postOne({ authorization: 'Basic dXNlcjpwYXNz' }, 'basic')).toMatchObject({ status: 401 });

    const readOnly = bearer(await createApiKey(uniqueTenant(), ['read']));
    const ingestOnly = bearer(await createApiKey(uniqueTenant(), ['ingest']));
    expect(await postOne(readOnly, 'read-only')).toMatchObject({ status: 403, body: { error: { code: 'SCOPE_REQUIRED' } } });
    expect(await sendJson('GET', `${stack.url('alert')}/v1/alerts`, ingestOnly)).toMatchObject({ status: 403, body: { error: { code: 'SCOPE_REQUIRED' } } });
    expect(await sendJson('GET', `${stack.url('aggregate')}/v1/aggregates`, ingestOnly)).toMatchObject({ status: 403 });
    expect(await sendJson('GET', `${stack.url('alert')}/v1/rules`, readOnly)).toMatchObject({ status: 403, body: { error: { code: 'SCOPE_REQUIRED' } } });
    expect(await sendJson('GET', `${stack.url('enrich')}/v1/keys`, readOnly)).toMatchObject({ status: 403 });
    // Probes and metrics stay open.
    for (const name of ['ingest', 'enrich', 'aggregate', 'alert']) {
      for (const path of ['/healthz', '/readyz', '/metrics']) expect([name, path, (await fetch(`${stack.url(name)}${path}`)).status]).toEqual([name, path, 200]);
    }
  }, 30_000);

  it('manages keys through the API within the caller\'s tenant; a revoked key stops working on every service', async () => {
    const keysUrl = `${stack.url('enrich')}/v1/keys`;
    // A tenant cannot give its keys a bigger budget: limits are the platform's to set.
    expect(await sendJson('POST', keysUrl, stack.auth, { scopes: ['ingest'], ratePerSecond: 1e6 })).toMatchObject({ status: 403, body: { error: { code: 'LIMITS_SET_BY_PLATFORM' } } });
    const created = await sendJson('POST', keysUrl, stack.auth, { name: 'ingest bot', scopes: ['ingest', 'read'] });
    expect(created).toMatchObject({ status: 201, body: { tenantId: stack.tenant, scopes: ['ingest', 'read'], ratePerSecond: null, burst: null, revokedAt: null, token: expect.stringMatching(/^sg_/) } });
    const { token, keyId } = created.body as { token: string; keyId: string };
    const listed = await sendJson('GET', keysUrl, stack.auth);
    expect((listed.body as { keys: Array<{ keyId: string }> }).keys.map((k) => k.keyId)).toContain(keyId);
    expect(JSON.stringify(listed.body)).not.toContain(token);

    // The tenant comes from the key: naming another tenant is refused; other tenants' keys are invisible.
    expect(await sendJson('POST', keysUrl, stack.auth, { scopes: ['ingest'], tenantId: 'someone-else' })).toMatchObject({ status: 403, body: { error: { code: 'TENANT_FROM_KEY' } } });
    expect(await sendJson('POST', keysUrl, stack.auth, { scopes: ['superuser'] })).toMatchObject({ status: 422 });
    const otherTenant = uniqueTenant();
    const foreign = await sendJson('POST', keysUrl, stack.platformAuth, { scopes: ['ingest'], tenantId: otherTenant, ratePerSecond: 50, burst: 100 });
    expect(foreign).toMatchObject({ status: 201, body: { tenantId: otherTenant, ratePerSecond: 50, burst: 100 } });
    expect(await sendJson('POST', keysUrl, stack.platformAuth, { scopes: ['ingest'], tenantId: otherTenant, burst: 2 ** 31 })).toMatchObject({ status: 422 });
    expect(await sendJson('POST', keysUrl, stack.platformAuth, { scopes: ['ingest'], tenantId: 'default' })).toMatchObject({ status: 422 });
    const foreignId = (foreign.body as { keyId: string }).keyId;
    expect((await sendJson('DELETE', `${keysUrl}/${foreignId}`, stack.auth)).status).toBe(404);
    expect(((await sendJson('GET', keysUrl, stack.auth)).body as { keys: Array<{ keyId: string }> }).keys.map((k) => k.keyId)).not.toContain(foreignId);

    // Revocation through the API reaches the other services by NOTIFY.
    expect((await postOne(bearer(token), 'before-revoke')).status).toBe(202);
    const revoked = await sendJson('DELETE', `${keysUrl}/${keyId}`, stack.auth);
    expect(revoked).toMatchObject({ status: 200, body: { keyId, revokedAt: expect.any(Number) } });
    const revokedAt = Date.now();
    await waitFor('the revoked key refused by ingest and alert', async () => {
      const [ingest, alert] = await Promise.all([postOne(bearer(token), uniqueName('after')), sendJson('GET', `${stack.url('alert')}/v1/alerts`, bearer(token))]);
      return (ingest.status === 403 && alert.status === 403 && (ingest.body as ErrorBody).error.code === 'API_KEY_REVOKED') || undefined;
    }, 5_000, 20);
    process.stdout.write(`key revoked → refused by ingest and alert after ${Date.now() - revokedAt} ms\n`);
  }, 60_000);

  it('keeps tenants apart: same account ids, each tenant sees only its own alerts and aggregates', async () => {
    const other = new Map<string, AuthHeaders>();
    const tenants = [stack.tenant, uniqueTenant('u')];
    other.set(tenants[0], stack.auth);
    other.set(tenants[1], bearer(await createApiKey(tenants[1], ['ingest', 'read'])));
    const account = `${tag}-shared`;
    const minute = Math.floor((Date.now() - 10 * 60_000) / 60_000) * 60_000;
    // Both tenants: the same account and event ids; amounts differ so each result can be traced to its tenant.
    for (const [i, tenant] of tenants.entries()) {
      const amounts = [20_000 + i, 5 + i];
      const events = amounts.map((amount, n) => ({ ...event(`shared-${n}`, account, amount, minute + 1_000 + n), eventId: `${tag}-shared-${n}` }));
      expect(await postEvents(stack.url('ingest'), events, other.get(tenant)!)).toEqual({ status: 202, body: { accepted: 2 } });
    }
    // Then, on the same partition (the key is the account), an event past the minute's end plus the 2 s
    // out-of-orderness: the watermark passes the window's end and both tenants' windows close.
    for (const tenant of tenants) {
      const later = { ...event('shared-later', account, 1, minute + 65_000), eventId: `${tag}-shared-later` };
      expect(await postEvents(stack.url('ingest'), [later], other.get(tenant)!)).toEqual({ status: 202, body: { accepted: 1 } });
    }

    for (const [i, tenant] of tenants.entries()) {
      const auth = other.get(tenant)!;
      const alerts = await waitFor(`${tenant}'s large-amount alert`, async () => {
        const { alerts } = await getJson<{ alerts: AlertMessage[] }>(`${stack.url('alert')}/v1/alerts?accountId=${account}`, auth);
        return alerts.length > 0 ? alerts : undefined;
      }, 60_000);
      expect(alerts.map((a) => [a.ruleId, a.tenantId, a.explanation.observed.value])).toEqual([['large-amount', tenant, 20_000 + i]]);

      const windows = await waitFor(`${tenant}'s account-1m window`, async () => {
        const { aggregates } = await getJson<{ aggregates: AggregateResultMessage[] }>(`${stack.url('aggregate')}/v1/aggregates?accountId=${account}&definition=account-1m`, auth);
        return aggregates.some((a) => a.final) ? aggregates : undefined;
      }, 60_000);
      expect(windows).toHaveLength(1);
      expect(windows[0]).toMatchObject({ tenantId: tenant, count: 2, values: { sumUsd: 20_005 + 2 * i } });
    }
    // Both tenants' alerts exist side by side in Postgres: the event ids are the same, the alerts are not.
    const { rows } = await db.query<{ tenant_id: string }>('SELECT tenant_id FROM alerts WHERE account_id = $1 ORDER BY tenant_id', [account]);
    expect(rows.map((r) => r.tenant_id)).toEqual([...tenants].sort());
  }, 120_000);

  it('rate-limits per key with 429 and Retry-After, without slowing another tenant', async () => {
    const noisy = bearer(await createApiKey(uniqueTenant('noisy'), ['ingest'], { ratePerSecond: 5, burst: 10 }));
    const quiet = bearer(await createApiKey(uniqueTenant('quiet'), ['ingest'], { ratePerSecond: 100, burst: 100 }));
    const ingest = stack.url('ingest');
    // A batch larger than the burst can never pass: 413, not an endless 429.
    expect((await postEvents(ingest, Array.from({ length: 11 }, (_, i) => event(`big-${i}`, 'a')), noisy)).status).toBe(413);
    // The burst (less the token the refused request cost) passes at once, in one batch; the next event is over the budget.
    const burst = Array.from({ length: 9 }, (_, i) => event(`noisy-${i}`, `${tag}-noisy`));
    expect((await postEvents(ingest, burst, noisy)).status).toBe(202);
    const limited = await sendJson('POST', `${ingest}/v1/events`, noisy, event('noisy-over', `${tag}-noisy`));
    expect(limited).toMatchObject({ status: 429, body: { error: { code: 'RATE_LIMITED' } } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    // The noisy tenant hammers with 8 concurrent clients while the quiet one sends: every quiet request is
    // accepted (latencies are reported, not asserted: timing belongs in the benchmark).
    let hammering = true;
    const noisyStatuses: number[] = [];
    const hammer = Promise.all(Array.from({ length: 8 }, async (_, worker) => {
      for (let i = 0; hammering && i < 500; i++) noisyStatuses.push((await sendJson('POST', `${ingest}/v1/events`, noisy, event(`hammer-${worker}-${i}`, 'a'))).status);
    }));
    const quietLatencies: number[] = [];
    for (let i = 0; i < 40; i++) {
      const started = Date.now();
      expect((await sendJson('POST', `${ingest}/v1/events`, quiet, event(`quiet-${i}`, 'b'))).status).toBe(202);
      quietLatencies.push(Date.now() - started);
    }
    hammering = false;
    await hammer;
    expect(noisyStatuses.filter((s) => s === 429).length).toBeGreaterThan(noisyStatuses.length / 2);
    const sorted = [...quietLatencies].sort((a, b) => a - b);
    process.stdout.write(`rate limit: noisy tenant ${noisyStatuses.length} requests from 8 clients (${noisyStatuses.filter((s) => s === 429).length} × 429) while the quiet tenant's 40 requests all got 202, median ${sorted[20]} ms, max ${sorted[39]} ms\n`);
    const metrics = await (await fetch(`${ingest}/metrics`)).text();
    expect(metrics).toMatch(/ingest_rate_limited_total\{[^}]*tenant="noisy-/);
  }, 60_000);

  it('never logs API keys or request bodies', async () => {
    const marker = uniqueName('secret-marker');
    expect((await sendJson('POST', `${stack.url('ingest')}/v1/events`, stack.auth, { ...event('log-probe', 'a'), attributes: { note: marker } })).status).toBe(202);
    await sendJson('POST', `${stack.url('ingest')}/v1/events`, stack.auth, { ...event('log-probe-bad', 'a'), amount: -1, attributes: { note: marker } });
    // Requests with a tampered and an unknown key are logged nowhere either.
    const token = stack.auth.authorization.slice('Bearer '.length);
    const tampered = `${token.slice(0, -2)}xx`;
    const unknown = `sg_${'a'.repeat(16)}_${'b'.repeat(43)}`;
    for (const t of [tampered, unknown]) expect((await postOne(bearer(t), uniqueName('log'))).status).toBe(401);
    await waitFor('the services\' start-up lines in the captured logs', () => stack.logs.some((l) => l.includes('API keys loaded')) || undefined, 5_000);
    const logs = stack.logs.join('\n');
    expect(logs).toContain('listening on'); // the capture works: these lines are there
    for (const secret of [token, stack.platformAuth.authorization.slice('Bearer '.length), tampered, unknown].map((t) => t.slice(20))) expect(logs).not.toContain(secret);
    expect(logs).not.toContain(marker);
    const password = new URL(testInfra().databaseUrl).password;
    if (password) expect(logs).not.toContain(`:${password}@`);
  }, 30_000);
});
