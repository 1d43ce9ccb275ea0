import { JsonLogger } from '../logging/logger';
import type { Database } from '../postgres/database';
import { generateApiKey } from './api-key';
import { ApiKeyRegistry } from './api-key.registry';

/** A Database stand-in answering the key table queries from an array (the registry only reads); counts queries. */
function fakeDatabase(rows: Array<Record<string, unknown>>): Database & { queries: number } {
  const db = {
    queries: 0,
    query: async (_sql: string, params?: unknown[]) => {
      db.queries += 1;
      const found = params === undefined ? rows : rows.filter((r) => r.key_id === params[0]);
      return { rows: found, rowCount: found.length };
    },
  };
  return db as unknown as Database & { queries: number };
}

function row(keyId: string, tokenSha256: Uint8Array, scopes: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    key_id: keyId, tenant_id: 'acme', name: '', scopes, rate_per_second: null, burst: null,
    created_at: new Date(0), revoked_at: null, token_sha256: Buffer.from(tokenSha256), ...extra,
  };
}

const logger = new JsonLogger('error', { service: 'test' });

async function registryWith(keys: Array<{ scopes: string[]; revoked?: boolean; tenant?: string }>) {
  const generated = keys.map(() => generateApiKey());
  const rows = keys.map((k, i) => row(generated[i].keyId, generated[i].tokenSha256, k.scopes, {
    tenant_id: k.tenant ?? 'acme', burst: i === 0 ? 50 : null, revoked_at: k.revoked ? new Date(1) : null,
  }));
  const db = fakeDatabase(rows);
  const registry = new ApiKeyRegistry(db, logger, 60_000);
  return { registry, db, rows, tokens: generated.map((g) => g.token), keyIds: generated.map((g) => g.keyId) };
}

describe('ApiKeyRegistry.authenticate', () => {
  it('answers 503 until the key table is loaded, then authenticates from memory', async () => {
    const { registry, tokens, keyIds } = await registryWith([{ scopes: ['ingest'] }]);
    expect(await registry.authenticate({ authorization: `Bearer ${tokens[0]}` }, 'ingest')).toMatchObject({ ok: false, status: 503, code: 'AUTH_UNAVAILABLE' });
    await registry.reload();
    expect(await registry.authenticate({ authorization: `Bearer ${tokens[0]}` }, 'ingest')).toEqual({
      ok: true, principal: { tenantId: 'acme', keyId: keyIds[0], scopes: ['ingest'] }, limits: { ratePerSecond: null, burst: 50 },
    });
    expect((await registry.authenticate({ 'x-api-key': tokens[0] }, 'ingest')).ok).toBe(true);
    expect((await registry.authenticate({ authorization: `bearer   ${tokens[0]}` }, 'ingest')).ok).toBe(true);
  });

  it('401: no key, a malformed key, an unknown key and a wrong secret look the same', async () => {
    const { registry, tokens } = await registryWith([{ scopes: ['ingest'] }]);
    await registry.reload();
    expect(await registry.authenticate({}, 'ingest')).toMatchObject({ status: 401, code: 'API_KEY_REQUIRED' });
    expect(await registry.authenticate({ authorization: 'Basic abc' }, 'ingest')).toMatchObject({ status: 401, code: 'API_KEY_REQUIRED' });
    const unknown = generateApiKey().token;
    const wrongSecret = `${tokens[0].slice(0, 20)}${unknown.slice(20)}`;
    for (const token of ['garbage', unknown, wrongSecret]) {
      expect(await registry.authenticate({ authorization: `Bearer ${token}` }, 'ingest')).toMatchObject({ status: 401, code: 'API_KEY_INVALID' });
    }
  });

  it('403: a revoked key, a key without the scope', async () => {
    const { registry, tokens } = await registryWith([{ scopes: ['read'] }, { scopes: ['admin'], revoked: true }]);
    await registry.reload();
    expect(await registry.authenticate({ authorization: `Bearer ${tokens[0]}` }, 'ingest')).toMatchObject({ status: 403, code: 'SCOPE_REQUIRED', message: expect.stringContaining('"ingest"') });
    expect(await registry.authenticate({ authorization: `Bearer ${tokens[1]}` }, 'admin')).toMatchObject({ status: 403, code: 'API_KEY_REVOKED' });
  });
});

describe('ApiKeyRegistry: keys created after the last load', () => {
  it('finds a new key in Postgres on first use, before its notification arrives', async () => {
    const { registry, rows } = await registryWith([{ scopes: ['ingest'] }]);
    await registry.reload();
    const fresh = generateApiKey();
    rows.push(row(fresh.keyId, fresh.tokenSha256, ['read']));
    expect(await registry.authenticate({ authorization: `Bearer ${fresh.token}` }, 'read')).toMatchObject({ ok: true, principal: { keyId: fresh.keyId } });
  });

  it('caps the lookups of unknown key ids per second', async () => {
    const { registry, db } = await registryWith([{ scopes: ['ingest'] }]);
    await registry.reload();
    const before = db.queries;
    for (let i = 0; i < 100; i++) {
      expect(await registry.authenticate({ authorization: `Bearer ${generateApiKey().token}` }, 'ingest', 1_000)).toMatchObject({ status: 401 });
    }
    expect(db.queries - before).toBe(20);
    await registry.authenticate({ authorization: `Bearer ${generateApiKey().token}` }, 'ingest', 1_050);
    expect(db.queries - before).toBe(21); // refilled: one lookup per 50 ms
  });
});

describe('ApiKeyRegistry: a lookup racing with a reload', () => {
  it('never puts back a row older than the table (a key revoked meanwhile stays revoked)', async () => {
    const key = generateApiKey();
    const live = row(key.keyId, key.tokenSha256, ['ingest']);
    let table: Array<Record<string, unknown>> = [];
    let releaseLookup!: () => void;
    const db = {
      query: async (_sql: string, params?: unknown[]) => {
        if (params === undefined) return { rows: table, rowCount: table.length };
        await new Promise<void>((resolve) => { releaseLookup = resolve; });
        return { rows: [live], rowCount: 1 }; // the row as it was when the lookup read it: not revoked
      },
    } as unknown as Database;
    const registry = new ApiKeyRegistry(db, logger, 60_000);
    await registry.reload();
    const pending = registry.authenticate({ authorization: `Bearer ${key.token}` }, 'ingest');
    await new Promise((r) => setImmediate(r));
    table = [{ ...live, revoked_at: new Date(5) }]; // revoked, and the notification's reload lands first
    await registry.reload();
    releaseLookup();
    expect(await pending).toMatchObject({ ok: false, status: 403, code: 'API_KEY_REVOKED' });
    expect(await registry.authenticate({ authorization: `Bearer ${key.token}` }, 'ingest')).toMatchObject({ status: 403 });
  });
});
