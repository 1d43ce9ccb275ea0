/**
 * API keys of the local stack (`npm start`): one key of the `demo` tenant (ingest, read, admin) and one
 * platform admin key (merchants, FX rates, blocklists, global rules). They are kept in `.streamguard/dev-api-keys.json` (mode 0600) so a
 * restart, `npm run demo` and your shell reuse them; a key revoked or deleted meanwhile is replaced.
 */
import { ApiKeyStore, Database, JsonLogger, keyIdOf, NewApiKey, PLATFORM_TENANT, Queryable, Scope, tokenMatches } from '@streamguard/common';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEMO_TENANT = 'demo';

export interface DevKeys {
  /** `demo` tenant: ingest, read, admin. */
  tenant: string;
  /** `platform` tenant: admin, read (shared reference data, global rules, every tenant's keys). */
  platform: string;
}

const WANTED: Record<keyof DevKeys, { tenantId: string; scopes: Scope[]; name: string }> = {
  tenant: { tenantId: DEMO_TENANT, scopes: ['ingest', 'read', 'admin'], name: 'local stack (npm start)' },
  platform: { tenantId: PLATFORM_TENANT, scopes: ['admin', 'read'], name: 'local stack platform admin (npm start)' },
};

export function devKeysFile(home: string): string {
  return join(home, 'dev-api-keys.json');
}

/** The stored dev keys, or undefined when the stack has not created them yet. */
export function readDevKeys(home: string): DevKeys | undefined {
  const file = devKeysFile(home);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DevKeys) : undefined;
}

function connect(databaseUrl: string): Database {
  return new Database(databaseUrl, 1, new JsonLogger('warn', { service: 'api-keys' }), 'streamguard-api-keys');
}

/** Creates one key (as `npm run keys -- create` does) and returns its token. For tools and tests. */
export async function createApiKeyFor(databaseUrl: string, key: NewApiKey): Promise<string> {
  const db = connect(databaseUrl);
  try {
    return (await new ApiKeyStore().create(db, key)).token;
  } finally {
    await db.close();
  }
}

export async function ensureDevKeys(databaseUrl: string, home: string): Promise<DevKeys> {
  const db = connect(databaseUrl);
  try {
    const previous = readDevKeys(home);
    const keys = {} as DevKeys;
    for (const role of Object.keys(WANTED) as Array<keyof DevKeys>) {
      const token = previous?.[role];
      keys[role] = token !== undefined && (await stillValid(db, token)) ? token : (await new ApiKeyStore().create(db, WANTED[role])).token;
    }
    writeFileSync(devKeysFile(home), JSON.stringify(keys, null, 2) + '\n', { mode: 0o600 });
    chmodSync(devKeysFile(home), 0o600); // `mode` applies only when the file is created
    return keys;
  } finally {
    await db.close();
  }
}

async function stillValid(db: Queryable, token: string): Promise<boolean> {
  const { rows } = await db.query<{ token_sha256: Uint8Array }>('SELECT token_sha256 FROM api_keys WHERE key_id = $1 AND revoked_at IS NULL', [keyIdOf(token) ?? '']);
  return rows.length === 1 && tokenMatches(token, new Uint8Array(rows[0].token_sha256));
}
