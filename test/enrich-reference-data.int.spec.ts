/**
 * Reference data end to end on the real broker and Postgres, with enrich running as its own process:
 * the authenticated REST API (validation, 404s, auth, accounts per tenant), changes reaching enrichment within
 * a second (LISTEN/NOTIFY, with the TTL set to an hour so only invalidation can explain it), changes made with
 * plain SQL, each tenant's events enriched with its own account profiles only, derived fields, and `newDevice`
 * staying the same when the same raw records are processed again.
 */
import type { Database, EnrichedEventMessage, KafkaPort, RecordProducer, TopicNames } from '@streamguard/common';
import { AuthHeaders, bearer, createApiKey, ServiceStack, uniqueTenant } from './support/service-stack';
import { collectTopic, createTestTopics, testDatabase, testKafka, uniqueName } from './support/test-infra';
import { waitFor } from './support/wait-for';

const VISIBLE_WITHIN_MS = 1_000;

interface RawEvent {
  /** Default: the stack's tenant. */
  tenantId?: string;
  eventId: string;
  accountId: string;
  merchantId: string;
  amount?: number;
  currency?: string;
  cardId?: string;
  deviceId?: string;
  country?: string;
  location?: { lat: number; lon: number };
}

describe('enrich: reference data API, live invalidation and derived fields', () => {
  let kafka: KafkaPort;
  let db: Database;
  let topics: TopicNames;
  let producer: RecordProducer;
  let stack: ServiceStack;
  let enriched: Awaited<ReturnType<typeof collectTopic>>;
  const run = uniqueName('ref');

  beforeAll(async () => {
    kafka = testKafka();
    db = testDatabase();
    topics = await createTestTopics(kafka, 3);
    producer = await kafka.producer();
    stack = await new ServiceStack({
      topics, services: ['enrich'],
      // An hour-long TTL: a change that shows up quickly can only have come through the notification.
      env: { ENRICH_CACHE_TTL_MS: '3600000' },
    }).start();
    enriched = await collectTopic(kafka, topics.enriched);
  }, 120_000);

  afterAll(async () => {
    await enriched?.stop();
    await stack?.stop();
    await producer?.disconnect();
    await db?.query('DELETE FROM fx_rates WHERE currency = $1', ['XTS']).catch(() => undefined);
    await db?.close();
  }, 60_000);

  /**
   * Calls the reference API with `auth` (null: no key at all). Default: accounts with the stack tenant's admin
   * key (accounts are per tenant), everything else with the platform admin key (platform data).
   */
  async function api(method: string, path: string, body?: unknown, auth?: AuthHeaders | null): Promise<{ status: number; json: Record<string, unknown> | null; headers: Headers }> {
    const key = auth === undefined ? (path.startsWith('accounts') ? stack.auth : stack.platformAuth) : auth;
    const headers: Record<string, string> = { ...key };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${stack.url('enrich')}/v1/reference/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : null, headers: response.headers };
  }

  async function send(events: RawEvent[]): Promise<void> {
    const now = Date.now();
    await producer.send(events.map((e) => ({
      topic: topics.raw, key: e.accountId,
      value: JSON.stringify({ schemaVersion: 1, tenantId: stack.tenant, occurredAt: now, amount: 10, currency: 'EUR', receivedAt: now, ...e }),
    })));
  }

  function enrichedEvents(): EnrichedEventMessage[] {
    return enriched.records.map((r) => JSON.parse(r.value!.toString()) as EnrichedEventMessage);
  }

  async function enrichedOf(eventId: string, copies = 1): Promise<EnrichedEventMessage[]> {
    return waitFor(`${copies} enriched copies of ${eventId}`, () => {
      const found = enrichedEvents().filter((e) => e.eventId === eventId);
      return found.length >= copies ? found : undefined;
    }, 30_000, 50);
  }

  /**
   * Makes `change`, then sends a probe event every 50 ms until one is enriched with the change. Returns when
   * the first fresh probe was enriched and when the last stale one was, relative to the change's commit
   * (the API answers after the commit). Every probe enriched later than VISIBLE_WITHIN_MS must be fresh.
   */
  async function measureVisibility(name: string, change: () => Promise<void>, probe: (eventId: string) => RawEvent, isFresh: (e: EnrichedEventMessage) => boolean) {
    const prefix = `${run}-${name}-probe`;
    await change();
    const committedAt = Date.now();
    let n = 0;
    const probesOf = () => enrichedEvents().filter((e) => e.eventId.startsWith(prefix));
    await waitFor(`${name} visible to enrichment`, async () => {
      await send([probe(`${prefix}-${n++}`)]);
      return probesOf().some(isFresh) || undefined;
    }, 5_000, 50);
    await waitFor('every probe enriched', () => probesOf().length >= n || undefined, 30_000, 50);
    const probes = probesOf();
    const firstFresh = Math.min(...probes.filter(isFresh).map((e) => e.enrichedAt)) - committedAt;
    const stale = probes.filter((e) => !isFresh(e)).map((e) => e.enrichedAt - committedAt);
    const lastStale = stale.length > 0 ? Math.max(...stale) : null;
    console.log(`[invalidation] ${name}: first fresh enrichment ${firstFresh} ms after the commit; last stale ${lastStale === null ? 'none' : `${lastStale} ms`}; ${probes.length} probes`);
    expect(probes.filter((e) => !isFresh(e) && e.enrichedAt - committedAt > VISIBLE_WITHIN_MS)).toEqual([]);
    expect(firstFresh).toBeLessThanOrEqual(VISIBLE_WITHIN_MS);
    return { firstFresh, lastStale };
  }

  describe('REST API', () => {
    it('refuses requests without a valid admin key, and platform data to tenant admins', async () => {
      const missing = await api('GET', 'accounts/acc-1', undefined, null);
      expect([missing.status, (missing.json!.error as { code: string }).code, missing.headers.get('www-authenticate')]).toEqual([401, 'API_KEY_REQUIRED', 'Bearer']);
      const wrong = { authorization: `Bearer sg_0123456789abcdef_${'A'.repeat(43)}` };
      expect((await api('GET', 'accounts/acc-1', undefined, wrong)).status).toBe(401);
      expect((await api('PUT', 'accounts/x', { homeCountry: 'DE' }, wrong)).status).toBe(401);
      // Accounts need the admin scope too.
      const ingestRead = bearer(await createApiKey(stack.tenant, ['ingest', 'read']));
      const noAdmin = await api('PUT', 'accounts/x', { homeCountry: 'DE' }, ingestRead);
      expect([noAdmin.status, (noAdmin.json!.error as { code: string }).code]).toEqual([403, 'SCOPE_REQUIRED']);
      // A tenant's admin key does not reach data all tenants share: every platform route refuses it.
      const platformRoutes: Array<[string, string, unknown?]> = [
        ['GET', 'merchants'], ['GET', 'merchants/mer-1'], ['PUT', 'merchants/mer-1', { name: 'x' }], ['DELETE', 'merchants/mer-1'],
        ['GET', 'fx-rates'], ['GET', 'fx-rates/EUR'], ['PUT', 'fx-rates/EUR', { usdRate: 1 }], ['DELETE', 'fx-rates/EUR'],
        ['GET', 'blocklist'], ['GET', 'blocklist/card/c-1'], ['PUT', 'blocklist/card/c-1', { reason: 'r' }], ['DELETE', 'blocklist/card/c-1'],
      ];
      for (const [method, path, body] of platformRoutes) {
        const refused = await api(method, path, body, stack.auth);
        expect([method, path, refused.status, (refused.json!.error as { code: string }).code]).toEqual([method, path, 403, 'PLATFORM_ADMIN_REQUIRED']);
      }
      // health stays open
      expect((await fetch(`${stack.url('enrich')}/healthz`)).status).toBe(200);
    }, 30_000);

    it('creates (201), replaces (200), reads, lists, deletes (204) and then 404s an account', async () => {
      const id = `${run}-acc-crud`;
      const created = await api('PUT', `accounts/${id}`, { homeCountry: 'DE', riskTier: 'low', openedAt: '2020-02-29' });
      expect(created.status).toBe(201);
      expect(created.json).toEqual({ accountId: id, homeCountry: 'DE', riskTier: 'low', openedAt: '2020-02-29', updatedAt: expect.any(String) });
      const replaced = await api('PUT', `accounts/${id}`, { accountId: id, homeCountry: 'FR' });
      expect([replaced.status, replaced.json]).toEqual([200, { accountId: id, homeCountry: 'FR', riskTier: 'standard', openedAt: null, updatedAt: expect.any(String) }]);
      expect((await api('GET', `accounts/${id}`)).json).toMatchObject({ accountId: id, homeCountry: 'FR' });

      await api('PUT', `accounts/${id}-2`, { homeCountry: 'GB' });
      const page = await api('GET', `accounts?limit=1&after=${encodeURIComponent(`${id}`)}`);
      expect(page.json).toEqual({ accounts: [expect.objectContaining({ accountId: `${id}-2` })], next: `${id}-2` });

      expect((await api('DELETE', `accounts/${id}`)).status).toBe(204);
      const gone = await api('GET', `accounts/${id}`);
      expect([gone.status, (gone.json!.error as { code: string }).code]).toEqual([404, 'ACCOUNT_NOT_FOUND']);
      expect((await api('DELETE', `accounts/${id}`)).status).toBe(404);
    });

    it('answers 422 with every field and reason, and stores nothing', async () => {
      const id = `${run}-acc-bad`;
      const invalid = await api('PUT', `accounts/${id}`, { accountId: 'other', homeCountry: 'Germany', openedAt: '2021-02-29', tier: 'x' });
      expect(invalid.status).toBe(422);
      expect(invalid.json!.error).toMatchObject({
        code: 'INVALID_REFERENCE_DATA',
        details: [
          { field: 'accountId', reason: 'differs from the path ("' + id + '")' },
          { field: 'tier', reason: 'unknown field' },
          { field: 'homeCountry', reason: 'must be 1-2 characters, got 7' },
          { field: 'openedAt', reason: 'must be an existing date from 1900-01-01' },
        ],
      });
      expect((await api('GET', `accounts/${id}`)).status).toBe(404);
      expect((await api('PUT', 'fx-rates/XTS', { usdRate: -1 })).json!.error).toMatchObject({ details: [{ field: 'usdRate', reason: 'must be > 0 and <= 1000000000' }] });
      expect((await api('PUT', 'blocklist/email/x', { reason: 'r' })).json!.error).toMatchObject({ details: [{ field: 'kind', reason: 'must be one of merchant, card, device, ip, country' }] });
      expect((await api('PUT', 'merchants/m', [1])).status).toBe(422);
      expect((await api('GET', 'accounts?limt=5')).status).toBe(400);
      expect((await api('GET', 'widgets/1')).status).toBe(404);
      // The tenant comes from the key, never from the body.
      const named = await api('PUT', `accounts/${id}`, { tenantId: stack.tenant, homeCountry: 'DE' });
      expect([named.status, named.json!.error]).toEqual([422, expect.objectContaining({
        code: 'INVALID_REFERENCE_DATA', details: [{ field: 'tenantId', reason: expect.stringContaining('the tenant is taken from your API key') }],
      })]);
      expect((await api('GET', `accounts/${id}`)).status).toBe(404);
    });

    it('keeps each tenant\'s accounts to itself; a platform admin names a tenant with ?tenant=', async () => {
      const id = `${run}-acc-own`;
      const other = uniqueTenant('other');
      const otherAdmin = bearer(await createApiKey(other, ['admin']));
      expect((await api('PUT', `accounts/${id}`, { homeCountry: 'DE' })).status).toBe(201);

      // Another tenant's admin: the account does not exist for it, and it cannot name the owner tenant.
      const unseen = await api('GET', `accounts/${id}`, undefined, otherAdmin);
      expect([unseen.status, (unseen.json!.error as { code: string }).code]).toEqual([404, 'ACCOUNT_NOT_FOUND']);
      expect((await api('DELETE', `accounts/${id}`, undefined, otherAdmin)).status).toBe(404);
      for (const [method, path, body] of [
        ['GET', `accounts/${id}?tenant=${stack.tenant}`], ['PUT', `accounts/${id}?tenant=${stack.tenant}`, { homeCountry: 'FR' }],
        ['DELETE', `accounts/${id}?tenant=${stack.tenant}`], ['GET', `accounts?tenant=${stack.tenant}`],
      ] as Array<[string, string, unknown?]>) {
        const refused = await api(method, path, body, otherAdmin);
        expect([method, path, refused.status, (refused.json!.error as { code: string }).code]).toEqual([method, path, 403, 'TENANT_FROM_KEY']);
      }
      expect((await api('GET', 'accounts?limit=1000', undefined, otherAdmin)).json).toEqual({ accounts: [], next: null });

      // The same id in the other tenant is a separate account.
      expect((await api('PUT', `accounts/${id}`, { homeCountry: 'JP' }, otherAdmin)).status).toBe(201);
      expect((await api('GET', `accounts/${id}`)).json).toMatchObject({ homeCountry: 'DE' });
      expect((await api('GET', 'accounts?limit=1000', undefined, otherAdmin)).json).toEqual({ accounts: [expect.objectContaining({ accountId: id, homeCountry: 'JP' })], next: null });
      const mine = (await api('GET', 'accounts?limit=1000')).json!.accounts as Array<{ accountId: string; homeCountry: string }>;
      expect(mine.filter((a) => a.accountId === id)).toEqual([expect.objectContaining({ homeCountry: 'DE' })]);

      // The platform admin: any tenant with ?tenant=, its own tenant's accounts without.
      expect((await api('GET', `accounts/${id}?tenant=${other}`, undefined, stack.platformAuth)).json).toMatchObject({ accountId: id, homeCountry: 'JP' });
      expect((await api('PUT', `accounts/${id}?tenant=${stack.tenant}`, { homeCountry: 'AT' }, stack.platformAuth)).status).toBe(200);
      expect((await api('GET', `accounts/${id}`)).json).toMatchObject({ homeCountry: 'AT' });
      expect((await api('GET', `accounts/${id}`, undefined, stack.platformAuth)).status).toBe(404);
      expect((await api('DELETE', `accounts/${id}?tenant=${other}`, undefined, stack.platformAuth)).status).toBe(204);
      expect((await api('GET', `accounts/${id}`, undefined, otherAdmin)).status).toBe(404);
      expect((await api('GET', `accounts/${id}`)).status).toBe(200);
    }, 30_000);

    it('manages merchants, FX rates and blocklist entries (an IPv6 value in the path)', async () => {
      const merchant = await api('PUT', `merchants/${run}-mer`, { name: 'Night Owl', mcc: '7995', category: 'gambling', country: 'MT', riskScore: 0.7 });
      expect([merchant.status, merchant.json]).toEqual([201, expect.objectContaining({ merchantId: `${run}-mer`, category: 'gambling', riskScore: 0.7 })]);
      expect((await api('PUT', 'fx-rates/XTS', { usdRate: 0.5 })).json).toMatchObject({ currency: 'XTS', usdRate: 0.5 });
      expect((await api('GET', 'fx-rates/XTS')).json).toMatchObject({ usdRate: 0.5 });
      const ip = '2001:db8::77';
      const entry = await api('PUT', `blocklist/ip/${encodeURIComponent(ip)}`, { reason: `${run} proxy` });
      expect([entry.status, entry.json]).toEqual([201, { kind: 'ip', value: ip, reason: `${run} proxy`, updatedAt: expect.any(String) }]);
      const listed = await api('GET', 'blocklist?kind=ip&limit=1000');
      expect((listed.json!.blocklist as Array<{ value: string }>).map((b) => b.value)).toContain(ip);
      expect((await api('DELETE', `blocklist/ip/${encodeURIComponent(ip)}`)).status).toBe(204);
      expect((await api('GET', `blocklist/ip/${encodeURIComponent(ip)}`)).json!.error).toMatchObject({ code: 'BLOCKLIST_ENTRY_NOT_FOUND' });
      expect((await api('DELETE', 'fx-rates/XTS')).status).toBe(204);
    });
  });

  describe('changes reach enrichment within a second', () => {
    it('an account\'s home country changed through the API', async () => {
      const account = `${run}-acc-live`;
      expect((await api('PUT', `accounts/${account}`, { homeCountry: 'DE', openedAt: '2020-01-01' })).status).toBe(201);
      // Warm the cache with the old profile.
      await send([{ eventId: `${run}-warm`, accountId: account, merchantId: 'mer-1', country: 'FR' }]);
      const [warm] = await enrichedOf(`${run}-warm`);
      expect([warm.account?.homeCountry, warm.derived?.homeCountryMismatch]).toEqual(['DE', true]);

      await measureVisibility('account home country',
        async () => { expect((await api('PUT', `accounts/${account}`, { homeCountry: 'FR', openedAt: '2020-01-01' })).status).toBe(200); },
        (eventId) => ({ eventId, accountId: account, merchantId: 'mer-1', country: 'FR' }),
        (e) => e.account?.homeCountry === 'FR' && e.derived?.homeCountryMismatch === false);
    }, 60_000);

    it('(control) a change that notifies nobody stays invisible: the cache is real, freshness comes from NOTIFY', async () => {
      const account = `${run}-acc-silent`;
      await api('PUT', `accounts/${account}`, { homeCountry: 'DE' });
      await send([{ eventId: `${run}-silent-warm`, accountId: account, merchantId: 'mer-1' }]);
      expect((await enrichedOf(`${run}-silent-warm`))[0].account?.homeCountry).toBe('DE');
      // session_replication_role = replica skips the NOTIFY triggers (superuser only; the test database allows it).
      await db.transaction(async (tx) => {
        await tx.query('SET LOCAL session_replication_role = replica');
        await tx.query(`UPDATE accounts SET home_country = 'IT' WHERE tenant_id = $1 AND account_id = $2`, [stack.tenant, account]);
      });
      // Postgres already says IT: a read that bypassed the cache would see it at once.
      await send([{ eventId: `${run}-silent-probe`, accountId: account, merchantId: 'mer-1' }]);
      expect((await enrichedOf(`${run}-silent-probe`))[0].account?.homeCountry).toBe('DE');
    }, 60_000);

    it('a blocklist entry added through the API', async () => {
      const card = `${run}-card`;
      await measureVisibility('blocklist entry',
        async () => { expect((await api('PUT', `blocklist/card/${card}`, { reason: 'reported stolen' })).status).toBe(201); },
        (eventId) => ({ eventId, accountId: `${run}-acc-card`, merchantId: 'mer-1', cardId: card }),
        (e) => e.blocklistHits.some((h) => h.kind === 'card' && h.value === card && h.reason === 'reported stolen'));
    }, 60_000);

    it('a merchant changed with plain SQL (any writer notifies), and a created account replacing ACCOUNT_UNKNOWN', async () => {
      const merchant = `${run}-mer-sql`;
      const account = `${run}-acc-new`;
      await db.query('INSERT INTO merchants (merchant_id, name, risk_score) VALUES ($1, $2, 0.1)', [merchant, 'SQL Shop']);
      await send([{ eventId: `${run}-sql-warm`, accountId: account, merchantId: merchant }]);
      const [warm] = await enrichedOf(`${run}-sql-warm`);
      expect([warm.merchant?.riskScore, warm.flags]).toEqual([0.1, ['ACCOUNT_UNKNOWN']]); // the unknown account is cached as absent

      await measureVisibility('merchant via SQL',
        async () => { await db.query('UPDATE merchants SET risk_score = 0.9, category = $2 WHERE merchant_id = $1', [merchant, 'crypto']); },
        (eventId) => ({ eventId, accountId: `${run}-acc-sql`, merchantId: merchant }),
        (e) => e.merchant?.riskScore === 0.9 && e.merchant?.category === 'crypto');
      await measureVisibility('account created via SQL',
        async () => { await db.query(`INSERT INTO accounts (tenant_id, account_id, home_country) VALUES ($1, $2, 'GB')`, [stack.tenant, account]); },
        (eventId) => ({ eventId, accountId: account, merchantId: merchant }),
        (e) => e.account?.homeCountry === 'GB' && e.flags.length === 0);
    }, 60_000);
  });

  describe('account profiles are per tenant', () => {
    it('enriches each tenant\'s events with its own profile of the same account id, and invalidates per tenant', async () => {
      // A ':' in the id: the notification key '<tenant>:<account>' must still name the right account.
      const account = `${run}-acc:shared`;
      const other = uniqueTenant('other');
      const stranger = uniqueTenant('stranger');
      expect((await api('PUT', `accounts/${encodeURIComponent(account)}`, { homeCountry: 'DE', openedAt: '2020-01-01' })).status).toBe(201);
      expect((await api('PUT', `accounts/${encodeURIComponent(account)}?tenant=${other}`, { homeCountry: 'US', openedAt: '2025-06-01' }, stack.platformAuth)).status).toBe(201);

      const event = (eventId: string, tenantId: string): RawEvent => ({ tenantId, eventId, accountId: account, merchantId: 'mer-1', country: 'DE', location: { lat: 51.17, lon: 10.45 } });
      await send([event(`${run}-own-a`, stack.tenant), event(`${run}-own-b`, other), event(`${run}-own-c`, stranger)]);
      const [a] = await enrichedOf(`${run}-own-a`);
      const [b] = await enrichedOf(`${run}-own-b`);
      const [c] = await enrichedOf(`${run}-own-c`);
      expect([a.tenantId, a.account?.homeCountry, a.derived?.homeCountryMismatch, a.derived?.distanceFromHomeKm, a.flags]).toEqual([stack.tenant, 'DE', false, 0, []]);
      expect([b.tenantId, b.account?.homeCountry, b.derived?.homeCountryMismatch, b.flags]).toEqual([other, 'US', true, []]);
      expect(b.derived!.distanceFromHomeKm).toBeGreaterThan(6_000);
      expect(b.derived!.accountAgeDays).toBe(Math.floor((b.occurredAt - Date.UTC(2025, 5, 1)) / 86_400_000));
      // A tenant without that account learns nothing about the others'.
      expect(c).toMatchObject({ tenantId: stranger, account: null, flags: ['ACCOUNT_UNKNOWN'], derived: { homeCountryMismatch: null, distanceFromHomeKm: null, accountAgeDays: null } });

      // One tenant's change reaches its own events at once (the cache entry of that tenant's account is dropped)…
      await measureVisibility('account of one tenant',
        async () => { expect((await api('PUT', `accounts/${encodeURIComponent(account)}?tenant=${other}`, { homeCountry: 'DE' }, stack.platformAuth)).status).toBe(200); },
        (eventId) => event(eventId, other),
        (e) => e.account?.homeCountry === 'DE' && e.derived?.homeCountryMismatch === false);
      // …and changes nothing for the other tenants.
      await send([event(`${run}-own-a2`, stack.tenant), event(`${run}-own-c2`, stranger)]);
      expect((await enrichedOf(`${run}-own-a2`))[0].account).toEqual({ homeCountry: 'DE', riskTier: 'standard', openedAt: '2020-01-01' });
      expect((await enrichedOf(`${run}-own-c2`))[0]).toMatchObject({ account: null, flags: ['ACCOUNT_UNKNOWN'] });
      // Every '<tenant>:<account>' notification was understood (one it cannot parse makes enrich forget everything and warn).
      expect(stack.logs.filter((line) => line.includes('unexpected reference change notification'))).toEqual([]);
    }, 60_000);
  });

  describe('derived fields', () => {
    it('computes them, and newDevice is the same when the same raw records are processed again', async () => {
      const account = `${run}-acc-dev`;
      await api('PUT', `accounts/${account}`, { homeCountry: 'DE', openedAt: '2026-01-01' });
      const batch: RawEvent[] = [
        { eventId: `${run}-d1`, accountId: account, merchantId: 'mer-1', deviceId: 'dev-A', country: 'DE', location: { lat: 51.17, lon: 10.45 } },
        { eventId: `${run}-d2`, accountId: account, merchantId: 'mer-1', deviceId: 'dev-A', country: 'US', location: { lat: 40.71, lon: -74.01 } },
        { eventId: `${run}-d3`, accountId: account, merchantId: 'mer-1', deviceId: 'dev-B' },
        { eventId: `${run}-d4`, accountId: account, merchantId: 'mer-1' },
        { eventId: `${run}-d5`, accountId: `${run}-acc-unknown`, merchantId: `${run}-mer-unknown`, currency: 'XXX', deviceId: 'dev-A' },
      ];
      await send(batch);
      const firstRun = await Promise.all(batch.map(async (e) => (await enrichedOf(e.eventId))[0]));
      expect(firstRun.map((e) => e.derived!.newDevice)).toEqual([true, false, true, null, true]);
      expect(firstRun[0].derived).toMatchObject({ homeCountryMismatch: false, distanceFromHomeKm: 0 });
      expect(firstRun[1].derived!.homeCountryMismatch).toBe(true);
      expect(firstRun[1].derived!.distanceFromHomeKm).toBeGreaterThan(6_000);
      expect(firstRun[0].derived!.accountAgeDays).toBe(Math.floor((firstRun[0].occurredAt - Date.UTC(2026, 0, 1)) / 86_400_000));
      // Unknown reference data: the event is not dropped; it carries flags and null derived fields.
      expect(firstRun[4]).toMatchObject({
        account: null, merchant: null, amountUsd: null, flags: ['ACCOUNT_UNKNOWN', 'MERCHANT_UNKNOWN', 'FX_RATE_MISSING'],
        derived: { homeCountryMismatch: null, distanceFromHomeKm: null, newDevice: true, accountAgeDays: null },
      });

      // The same raw records again (as after a crash before the Kafka commit): the same answers.
      await send(batch);
      const replayed = await Promise.all(batch.map(async (e) => (await enrichedOf(e.eventId, 2))[1]));
      expect(replayed.map((e) => e.derived!.newDevice)).toEqual([true, false, true, null, true]);
      const { rows } = await db.query<{ device_id: string; first_event_id: string }>(
        'SELECT device_id, first_event_id FROM account_devices WHERE account_id = $1 ORDER BY device_id', [account]);
      expect(rows).toEqual([{ device_id: 'dev-A', first_event_id: `${run}-d1` }, { device_id: 'dev-B', first_event_id: `${run}-d3` }]);
    }, 60_000);
  });
});
