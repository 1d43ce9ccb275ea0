/**
 * Every service's in-memory table of API keys. Authentication never touches Postgres on the request path:
 * the table is loaded at start-up and reloaded on every change (LISTEN/NOTIFY on `streamguard_api_keys`,
 * plus a poll as a safety net), so a created or revoked key takes effect within milliseconds everywhere.
 * If Postgres is down, the last loaded table keeps serving.
 *
 * A key id missing from the table is looked up in Postgres once before it is refused, so a key works the
 * moment it is created, even before its notification arrived. Those lookups are capped per instance
 * ({@link MISS_LOOKUPS_PER_SECOND}): a flood of made-up keys costs Postgres almost nothing.
 */
import type { Logger } from '../logging/logger';
import type { Database } from '../postgres/database';
import { NotifyReloader } from '../postgres/notify-reloader';
import { keyIdOf, Principal, Scope, tokenMatches } from './api-key';
import { ApiKeyRecord, ApiKeyStore } from './api-key.store';
import { TokenBuckets } from './token-bucket';

export const API_KEYS_CHANNEL = 'streamguard_api_keys';
export const MISS_LOOKUPS_PER_SECOND = 20;

export type Authentication =
  | { ok: true; principal: Principal; limits: { ratePerSecond: number | null; burst: number | null } }
  | { ok: false; status: 401 | 403 | 503; code: string; message: string };

type StoredKey = ApiKeyRecord & { tokenSha256: Uint8Array };

export interface PresentedCredentials {
  authorization?: string | string[];
  'x-api-key'?: string | string[];
}

export class ApiKeyRegistry {
  private keys = new Map<string, StoredKey>();
  private loaded = false;
  /** Bumped by every full load: a lookup that raced with one must not put back an older row (say, before a revocation). */
  private loadGeneration = 0;
  private readonly reloader: NotifyReloader;
  private readonly store = new ApiKeyStore();
  private readonly missLookups = new TokenBuckets(1);

  constructor(private readonly db: Database, private readonly logger: Logger, pollMs: number) {
    this.reloader = new NotifyReloader(db, API_KEYS_CHANNEL, () => this.load(), logger, pollMs);
  }

  /** Starts loading and listening in the background, retrying until Postgres answers. */
  start(): void {
    const attempt = (): void => {
      this.reloader.start().catch((error) => {
        this.logger.warn('cannot load API keys yet; API requests get 503 until they are', { error: (error as Error).message });
        if (!this.stopped) setTimeout(attempt, 2000).unref();
      });
    };
    attempt();
  }

  private stopped = false;

  stop(): void {
    this.stopped = true;
    this.reloader.stop();
  }

  isLoaded(): boolean {
    return this.loaded;
  }

  /** Reloads now (tests and the key API use it to make their own change visible without waiting). */
  reload(): Promise<void> {
    return this.reloader.reload();
  }

  private async load(): Promise<void> {
    const rows = await this.store.loadAll(this.db);
    const first = !this.loaded;
    this.keys = new Map(rows.map((row) => [row.keyId, row]));
    this.loadGeneration += 1;
    this.loaded = true;
    if (first) this.logger.info('API keys loaded', { keys: rows.filter((r) => r.revokedAt === null).length });
  }

  /**
   * Accepts `Authorization: Bearer <token>` or `X-API-Key: <token>`. 401 when no key, a malformed or an
   * unknown one is presented (the same answer for all three: a caller learns nothing about which ids
   * exist); 403 when the key is revoked or lacks `scope`; 503 before the key table is loaded.
   */
  async authenticate(headers: PresentedCredentials, scope: Scope, now = Date.now()): Promise<Authentication> {
    const token = presentedToken(headers);
    if (token === undefined) {
      return { ok: false, status: 401, code: 'API_KEY_REQUIRED', message: 'send an API key as "Authorization: Bearer <key>" (create one with `npm run keys -- create`)' };
    }
    if (!this.loaded) {
      return { ok: false, status: 503, code: 'AUTH_UNAVAILABLE', message: 'API keys are not loaded yet (is Postgres reachable?); retry shortly' };
    }
    const keyId = keyIdOf(token);
    let key = keyId === undefined ? undefined : this.keys.get(keyId);
    if (key === undefined && keyId !== undefined) key = await this.lookUpMissing(keyId, now);
    if (key === undefined || !tokenMatches(token, key.tokenSha256)) {
      return { ok: false, status: 401, code: 'API_KEY_INVALID', message: 'the API key is not valid; check that it was copied whole' };
    }
    if (key.revokedAt !== null) {
      return { ok: false, status: 403, code: 'API_KEY_REVOKED', message: `API key ${key.keyId} was revoked; create a new one` };
    }
    if (!key.scopes.includes(scope)) {
      return { ok: false, status: 403, code: 'SCOPE_REQUIRED', message: `API key ${key.keyId} lacks the "${scope}" scope (it has: ${key.scopes.join(', ')})` };
    }
    return {
      ok: true,
      principal: { tenantId: key.tenantId, keyId: key.keyId, scopes: key.scopes },
      limits: { ratePerSecond: key.ratePerSecond, burst: key.burst },
    };
  }

  private async lookUpMissing(keyId: string, now: number): Promise<StoredKey | undefined> {
    if (!this.missLookups.take('miss', 1, { ratePerSecond: MISS_LOOKUPS_PER_SECOND, burst: MISS_LOOKUPS_PER_SECOND }, now).ok) return undefined;
    const generation = this.loadGeneration;
    try {
      const key = await this.store.find(this.db, keyId);
      // A full load that finished meanwhile is at least as fresh as this row: trust the table instead.
      if (generation !== this.loadGeneration) return this.keys.get(keyId);
      if (key) this.keys.set(keyId, key);
      return key;
    } catch (error) {
      this.logger.warn('cannot look up an API key missing from the key table', { keyId, error: (error as Error).message });
      return undefined;
    }
  }
}

function presentedToken(headers: PresentedCredentials): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (match) return match[1];
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey.trim() : undefined;
}
