import type { Queryable } from '../postgres/database';
import { ApiKeyValidationError, checkTenantId, generateApiKey, Scope } from './api-key';

/** What is stored about a key (never the token). */
export interface ApiKeyRecord {
  keyId: string;
  tenantId: string;
  name: string;
  scopes: Scope[];
  /** Per-key token bucket; null = the service's default. */
  ratePerSecond: number | null;
  burst: number | null;
  createdAt: number;
  revokedAt: number | null;
}

export interface NewApiKey {
  tenantId: string;
  scopes: Scope[];
  name?: string;
  ratePerSecond?: number;
  burst?: number;
}

interface Row {
  key_id: string; tenant_id: string; name: string; scopes: string[]; rate_per_second: number | null; burst: number | null;
  created_at: Date; revoked_at: Date | null; token_sha256?: Uint8Array;
}

const COLUMNS = 'key_id, tenant_id, name, scopes, rate_per_second, burst, created_at, revoked_at';

function toRecord(row: Row): ApiKeyRecord {
  return {
    keyId: row.key_id, tenantId: row.tenant_id, name: row.name, scopes: row.scopes as Scope[],
    ratePerSecond: row.rate_per_second, burst: row.burst,
    createdAt: row.created_at.getTime(), revokedAt: row.revoked_at?.getTime() ?? null,
  };
}

/** `api_keys`: used by the `keys` CLI, the key management API and every service's key table. */
export class ApiKeyStore {
  /** Creates a key; the returned token is the only copy there will ever be. */
  async create(db: Queryable, key: NewApiKey): Promise<{ token: string; record: ApiKeyRecord }> {
    checkTenantId(key.tenantId);
    if (key.ratePerSecond !== undefined && !(key.ratePerSecond > 0)) throw new ApiKeyValidationError('rate must be a number > 0 (events or requests per second)');
    if (key.burst !== undefined && !(Number.isInteger(key.burst) && key.burst >= 1)) throw new ApiKeyValidationError('burst must be an integer >= 1');
    const generated = generateApiKey();
    const { rows } = await db.query<Row>(
      `INSERT INTO api_keys (key_id, tenant_id, name, scopes, token_sha256, rate_per_second, burst)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [generated.keyId, key.tenantId, key.name ?? '', key.scopes, Buffer.from(generated.tokenSha256), key.ratePerSecond ?? null, key.burst ?? null],
    );
    return { token: generated.token, record: toRecord(rows[0]) };
  }

  /** Keys of one tenant (or all tenants), oldest first. */
  async list(db: Queryable, tenantId?: string): Promise<ApiKeyRecord[]> {
    const { rows } = tenantId === undefined
      ? await db.query<Row>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, key_id`)
      : await db.query<Row>(`SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, key_id`, [tenantId]);
    return rows.map(toRecord);
  }

  /**
   * Revokes a key (idempotent: the first revocation time is kept). Limited to `tenantId` when given, so a
   * tenant cannot revoke — or learn about — another tenant's keys. Undefined when there is no such key.
   */
  async revoke(db: Queryable, keyId: string, tenantId?: string): Promise<ApiKeyRecord | undefined> {
    const { rows } = await db.query<Row>(
      `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
       WHERE key_id = $1 AND ($2::text IS NULL OR tenant_id = $2) RETURNING ${COLUMNS}`,
      [keyId, tenantId ?? null],
    );
    return rows[0] === undefined ? undefined : toRecord(rows[0]);
  }

  /** One key with its hash, or undefined. */
  async find(db: Queryable, keyId: string): Promise<(ApiKeyRecord & { tokenSha256: Uint8Array }) | undefined> {
    const { rows } = await db.query<Row>(`SELECT ${COLUMNS}, token_sha256 FROM api_keys WHERE key_id = $1`, [keyId]);
    return rows[0] === undefined ? undefined : { ...toRecord(rows[0]), tokenSha256: new Uint8Array(rows[0].token_sha256!) };
  }

  /** Every key with its hash, for the in-memory key table. */
  async loadAll(db: Queryable): Promise<Array<ApiKeyRecord & { tokenSha256: Uint8Array }>> {
    const { rows } = await db.query<Row>(`SELECT ${COLUMNS}, token_sha256 FROM api_keys`);
    return rows.map((row) => ({ ...toRecord(row), tokenSha256: new Uint8Array(row.token_sha256!) }));
  }
}
