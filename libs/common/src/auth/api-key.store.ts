import type { Queryable } from '../postgres/database';
import { LEGACY_TENANT } from '../contracts/message-validation';
import { ApiKeyValidationError, checkTenantId, generateApiKey, Scope } from './api-key';

/** The tenant has as many active keys as it may have. */
export class ApiKeyLimitError extends Error {}

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

/** Bounds of a key's own limits (the burst is an int4 column). */
export const KEY_LIMIT_BOUNDS = { maxRatePerSecond: 10_000_000, minRatePerSecond: 0.01, maxBurst: 100_000_000 } as const;

export interface CreateOptions {
  /** Refuse when the tenant already has this many unrevoked keys (the key API; the CLI is not limited). */
  maxActiveKeys?: number;
  /** Allow the tenant that owns rows written before tenants existed (see LEGACY_TENANT); CLI only. */
  allowLegacyTenant?: boolean;
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
  async create(db: Queryable, key: NewApiKey, options: CreateOptions = {}): Promise<{ token: string; record: ApiKeyRecord }> {
    checkTenantId(key.tenantId);
    if (key.tenantId === LEGACY_TENANT && !options.allowLegacyTenant) {
      throw new ApiKeyValidationError(`tenant "${LEGACY_TENANT}" holds the data written before tenants existed; create its keys with the CLI and --legacy-tenant if you mean it`);
    }
    const { maxRatePerSecond, minRatePerSecond, maxBurst } = KEY_LIMIT_BOUNDS;
    if (key.ratePerSecond !== undefined && !(key.ratePerSecond >= minRatePerSecond && key.ratePerSecond <= maxRatePerSecond)) {
      throw new ApiKeyValidationError(`rate must be a number from ${minRatePerSecond} to ${maxRatePerSecond} (events or requests per second)`);
    }
    if (key.burst !== undefined && !(Number.isInteger(key.burst) && key.burst >= 1 && key.burst <= maxBurst)) {
      throw new ApiKeyValidationError(`burst must be an integer from 1 to ${maxBurst}`);
    }
    if (options.maxActiveKeys !== undefined) {
      const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL', [key.tenantId]);
      if (Number(rows[0].n) >= options.maxActiveKeys) {
        throw new ApiKeyLimitError(`tenant ${key.tenantId} already has ${options.maxActiveKeys} active API keys; revoke unused ones first`);
      }
    }
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
