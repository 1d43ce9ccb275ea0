import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import {
  API_KEYS, ApiError, ApiKeyLimitError, ApiKeyRecord, ApiKeyValidationError, ApiKeyRegistry, ApiKeyStore, AuthenticatedCaller, Caller, DATABASE, Database,
  isPlatformAdmin, parseScopes, rejectUnknownParams, RequireScope, TENANT_ID_PATTERN,
} from '@streamguard/common';

const CREATE_FIELDS = ['name', 'scopes', 'ratePerSecond', 'burst', 'tenantId'];
/** Each key has its own rate-limit bucket: without a cap, more keys would mean more budget. */
export const MAX_ACTIVE_KEYS_PER_TENANT = 100;

/**
 * `/v1/keys` (an `admin` key): create, list and revoke API keys. A tenant's admin manages its own tenant's
 * keys — at most {@link MAX_ACTIVE_KEYS_PER_TENANT} active, with the default rate limits; the platform
 * tenant's admin manages every tenant's (`tenantId` in the body or `?tenant=`) and may give a key its own
 * `ratePerSecond` / `burst`. The token is in the creation response only — never stored, logged or shown again.
 */
@Controller('v1/keys')
@RequireScope('admin')
export class ApiKeysController {
  private readonly store = new ApiKeyStore();

  constructor(@Inject(DATABASE) private readonly db: Database, @Inject(API_KEYS) private readonly registry: ApiKeyRegistry) {}

  @Post()
  @HttpCode(201)
  async create(@Body() body: unknown, @Caller() caller: AuthenticatedCaller): Promise<ApiKeyRecord & { token: string; notice: string }> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the body must be a JSON object');
    const input = body as Record<string, unknown>;
    const unknown = Object.keys(input).filter((k) => !CREATE_FIELDS.includes(k));
    if (unknown.length > 0) throw invalid(`unknown field(s): ${unknown.join(', ')}; allowed: ${CREATE_FIELDS.join(', ')}`);
    const tenantId = this.targetTenant(caller, input.tenantId, 'body field tenantId');
    if (input.name !== undefined && (typeof input.name !== 'string' || input.name.length > 200)) throw invalid('name must be a string of at most 200 characters');
    if (!Array.isArray(input.scopes) || input.scopes.some((s) => typeof s !== 'string')) throw invalid('scopes must be an array such as ["ingest", "read"]');
    for (const field of ['ratePerSecond', 'burst'] as const) {
      if (input[field] === undefined) continue;
      if (typeof input[field] !== 'number') throw invalid(`${field} must be a number`);
      // A tenant setting its own budget would make rate limiting optional.
      if (!isPlatformAdmin(caller)) throw new ApiError(403, 'LIMITS_SET_BY_PLATFORM', `${field}: a key's own limits are set by platform admins; your keys get the service defaults`);
    }
    let created;
    try {
      created = await this.store.create(this.db, {
        tenantId, scopes: parseScopes(input.scopes as string[]), name: input.name as string | undefined,
        ratePerSecond: input.ratePerSecond as number | undefined, burst: input.burst as number | undefined,
      }, { maxActiveKeys: MAX_ACTIVE_KEYS_PER_TENANT });
    } catch (error) {
      if (error instanceof ApiKeyValidationError) throw invalid(error.message);
      if (error instanceof ApiKeyLimitError) throw new ApiError(409, 'API_KEY_LIMIT', error.message);
      throw error;
    }
    await this.registry.reload(); // usable on this instance as soon as the response arrives
    return { ...created.record, token: created.token, notice: 'store this key now: it is shown only once and cannot be recovered' };
  }

  @Get()
  async list(@Query() query: Record<string, string>, @Caller() caller: AuthenticatedCaller): Promise<{ keys: ApiKeyRecord[] }> {
    rejectUnknownParams(query, ['tenant']);
    const tenantId = isPlatformAdmin(caller) && query.tenant === undefined ? undefined : this.targetTenant(caller, query.tenant, 'query parameter tenant');
    return { keys: await this.store.list(this.db, tenantId) };
  }

  /** Revocation is immediate on every instance (NOTIFY); revoking twice keeps the first time. */
  @Delete(':keyId')
  @HttpCode(200)
  async revoke(@Param('keyId') keyId: string, @Caller() caller: AuthenticatedCaller): Promise<ApiKeyRecord> {
    const revoked = await this.store.revoke(this.db, keyId, isPlatformAdmin(caller) ? undefined : caller.tenantId);
    // Another tenant's key answers exactly like a missing one: ids of other tenants are not discoverable.
    if (!revoked) throw new ApiError(404, 'API_KEY_NOT_FOUND', `no API key ${keyId} in tenant ${caller.tenantId}`);
    await this.registry.reload();
    return revoked;
  }

  /** The caller's own tenant, or — for the platform admin only — the tenant it names. */
  private targetTenant(caller: AuthenticatedCaller, named: unknown, where: string): string {
    if (named === undefined || named === caller.tenantId) return caller.tenantId;
    if (!isPlatformAdmin(caller)) {
      throw new ApiError(403, 'TENANT_FROM_KEY', `${where}: the tenant is taken from your API key; only platform admins name another tenant`);
    }
    if (typeof named !== 'string' || !TENANT_ID_PATTERN.test(named)) throw invalid(`${where} must match ${TENANT_ID_PATTERN.source}`);
    return named;
  }
}

function invalid(message: string): ApiError {
  return new ApiError(422, 'INVALID_API_KEY_REQUEST', message);
}
