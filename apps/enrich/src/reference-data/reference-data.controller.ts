import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Put, Query, Res } from '@nestjs/common';
import {
  ApiError, AuthenticatedCaller, Caller, isPlatformAdmin, parseLimit, Principal, rejectUnknownParams, RequirePlatformAdmin, RequireScope,
  TENANT_ID_PATTERN,
} from '@streamguard/common';
import type { FastifyReply } from 'fastify';
import { ReferenceDataRepository, StoredRecord } from './reference-data.repository';
import { FieldProblem, REFERENCE_FIELDS, REFERENCE_VALIDATORS, ReferenceKind } from './reference-validation';

/** Platform collections addressed by one path segment (`/v1/reference/<collection>/<id>`). */
type SharedSingleKeyKind = 'merchants' | 'fx-rates';
const SHARED_SINGLE_KEY_KINDS: readonly SharedSingleKeyKind[] = ['merchants', 'fx-rates'];

const NAMES: Record<ReferenceKind, { one: string; notFound: string; listKey: string }> = {
  accounts: { one: 'account', notFound: 'ACCOUNT_NOT_FOUND', listKey: 'accounts' },
  merchants: { one: 'merchant', notFound: 'MERCHANT_NOT_FOUND', listKey: 'merchants' },
  'fx-rates': { one: 'FX rate', notFound: 'FX_RATE_NOT_FOUND', listKey: 'fxRates' },
  blocklist: { one: 'blocklist entry', notFound: 'BLOCKLIST_ENTRY_NOT_FOUND', listKey: 'blocklist' },
};

/**
 * `/v1/reference`: account profiles, merchants, FX rates and blocklist entries. `PUT` creates (201) or
 * replaces (200) a whole record; invalid input is a 422 listing every `{field, reason}`. Every write reaches
 * every enrich instance within about a second (the tables' NOTIFY triggers).
 *
 * Who may do what:
 * - `accounts` are a tenant's own data: any `admin` key, on its own tenant's accounts. A platform admin may add
 *   `?tenant=<id>` to work on another tenant's accounts; any other key naming another tenant gets
 *   `403 TENANT_FROM_KEY`. The tenant is never taken from the body (`tenantId` there is a 422).
 * - `merchants`, `fx-rates` and `blocklist` are platform data shared by all tenants: only the platform tenant's
 *   `admin` keys (`@RequirePlatformAdmin()` on each of those routes).
 *
 * The accounts routes are static paths, so they take precedence over the `:collection` routes, which serve
 * the platform collections only.
 */
@Controller('v1/reference')
export class ReferenceDataController {
  constructor(@Inject(ReferenceDataRepository) private readonly repository: ReferenceDataRepository) {}

  // --- accounts: the caller's tenant ---

  @Get('accounts')
  @RequireScope('admin')
  async listAccounts(@Query() query: Record<string, unknown>, @Caller() caller: AuthenticatedCaller): Promise<Record<string, unknown>> {
    rejectUnknownParams(query, ['limit', 'after', 'tenant']);
    const tenantId = accountsTenant(caller, query.tenant);
    const limit = parseLimit(stringParam(query, 'limit'));
    const after = stringParam(query, 'after');
    const items = await this.repository.list('accounts', limit, { tenantId, after: after ? [after] : undefined });
    const last = items.at(-1);
    return { accounts: items, next: items.length === limit && last ? last.accountId : null };
  }

  @Get('accounts/:id')
  @RequireScope('admin')
  async getAccount(@Param('id') id: string, @Query() query: Record<string, unknown>, @Caller() caller: AuthenticatedCaller): Promise<StoredRecord<'accounts'>> {
    rejectUnknownParams(query, ['tenant']);
    return this.found('accounts', [id], accountsTenant(caller, query.tenant));
  }

  @Put('accounts/:id')
  @RequireScope('admin')
  async putAccount(
    @Param('id') id: string, @Query() query: Record<string, unknown>, @Body() body: unknown, @Caller() caller: AuthenticatedCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StoredRecord<'accounts'>> {
    rejectUnknownParams(query, ['tenant']);
    return this.replace('accounts', { accountId: id }, body, reply, accountsTenant(caller, query.tenant));
  }

  @Delete('accounts/:id')
  @RequireScope('admin')
  @HttpCode(204)
  async deleteAccount(@Param('id') id: string, @Query() query: Record<string, unknown>, @Caller() caller: AuthenticatedCaller): Promise<void> {
    rejectUnknownParams(query, ['tenant']);
    await this.remove('accounts', [id], accountsTenant(caller, query.tenant));
  }

  // --- blocklist: platform data ---

  @Get('blocklist')
  @RequirePlatformAdmin()
  async listBlocklist(@Query() query: Record<string, string>): Promise<Record<string, unknown>> {
    rejectUnknownParams(query, ['kind', 'limit', 'after']);
    const limit = parseLimit(query.limit);
    let after: string[] | undefined;
    if (query.after) {
      // `after` is the `next` of the previous page: `<kind>:<value>` (kinds contain no colon).
      const separator = query.after.indexOf(':');
      if (separator <= 0) throw new ApiError(400, 'INVALID_PARAMETER', 'after must be <kind>:<value>, the "next" of the previous page');
      after = [query.after.slice(0, separator), query.after.slice(separator + 1)];
    }
    const items = await this.repository.list('blocklist', limit, { after, kind: query.kind || undefined });
    const last = items.at(-1);
    return { blocklist: items, next: items.length === limit && last ? `${last.kind}:${last.value}` : null };
  }

  @Get('blocklist/:kind/:value')
  @RequirePlatformAdmin()
  async getBlocklistEntry(@Param('kind') kind: string, @Param('value') value: string): Promise<StoredRecord<'blocklist'>> {
    return this.found('blocklist', [kind, value]);
  }

  @Put('blocklist/:kind/:value')
  @RequirePlatformAdmin()
  async putBlocklistEntry(@Param('kind') kind: string, @Param('value') value: string, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<StoredRecord<'blocklist'>> {
    return this.replace('blocklist', { kind, value }, body, reply);
  }

  @Delete('blocklist/:kind/:value')
  @RequirePlatformAdmin()
  @HttpCode(204)
  async deleteBlocklistEntry(@Param('kind') kind: string, @Param('value') value: string): Promise<void> {
    await this.remove('blocklist', [kind, value]);
  }

  // --- merchants and fx-rates: platform data ---

  @Get(':collection')
  @RequirePlatformAdmin()
  async list(@Param('collection') collection: string, @Query() query: Record<string, string>): Promise<Record<string, unknown>> {
    const kind = sharedSingleKeyKind(collection);
    rejectUnknownParams(query, ['limit', 'after']);
    const limit = parseLimit(query.limit);
    const items = await this.repository.list(kind, limit, { after: query.after ? [query.after] : undefined });
    const keyField = REFERENCE_FIELDS[kind].key[0];
    const last = items.at(-1) as Record<string, unknown> | undefined;
    return { [NAMES[kind].listKey]: items, next: items.length === limit && last ? String(last[keyField]) : null };
  }

  @Get(':collection/:id')
  @RequirePlatformAdmin()
  async get(@Param('collection') collection: string, @Param('id') id: string): Promise<StoredRecord<SharedSingleKeyKind>> {
    return this.found(sharedSingleKeyKind(collection), [id]);
  }

  @Put(':collection/:id')
  @RequirePlatformAdmin()
  async put(@Param('collection') collection: string, @Param('id') id: string, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<StoredRecord<SharedSingleKeyKind>> {
    const kind = sharedSingleKeyKind(collection);
    return this.replace(kind, { [REFERENCE_FIELDS[kind].key[0]]: id }, body, reply);
  }

  @Delete(':collection/:id')
  @RequirePlatformAdmin()
  @HttpCode(204)
  async delete(@Param('collection') collection: string, @Param('id') id: string): Promise<void> {
    await this.remove(sharedSingleKeyKind(collection), [id]);
  }

  /** `tenantId`: accounts only (the repository refuses it for the platform kinds and requires it for accounts). */
  private async found<K extends ReferenceKind>(kind: K, key: string[], tenantId?: string): Promise<StoredRecord<K>> {
    const record = await this.repository.get(kind, key, tenantId);
    if (!record) throw notFound(kind, key, tenantId);
    return record;
  }

  private async remove(kind: ReferenceKind, key: string[], tenantId?: string): Promise<void> {
    if (!(await this.repository.delete(kind, key, tenantId))) throw notFound(kind, key, tenantId);
  }

  /** The path names the record; the body holds the rest (key fields in the body must agree with the path). */
  private async replace<K extends ReferenceKind>(kind: K, pathKey: Record<string, string>, body: unknown, reply: FastifyReply, tenantId?: string): Promise<StoredRecord<K>> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw invalid(kind, [{ field: '', reason: 'the body must be a JSON object' }]);
    }
    const fields = { ...(body as Record<string, unknown>) };
    const problems: FieldProblem[] = Object.entries(pathKey)
      .filter(([field, value]) => fields[field] !== undefined && fields[field] !== value)
      .map(([field, value]) => ({ field, reason: `differs from the path (${JSON.stringify(value)})` }));
    if (tenantId !== undefined && 'tenantId' in fields) {
      // Said plainly rather than as an "unknown field": the caller may believe the body chooses the tenant.
      problems.push({ field: 'tenantId', reason: 'must not be in the body: the tenant is taken from your API key (platform admins add ?tenant=<id>)' });
      delete fields.tenantId;
    }
    const result = REFERENCE_VALIDATORS[kind]({ ...fields, ...pathKey });
    if (!result.ok) problems.push(...result.problems);
    if (problems.length > 0 || !result.ok) throw invalid(kind, problems);
    const summary = await this.repository.upsert(kind, [result.record], { tenantId });
    void reply.status(summary.inserted > 0 ? 201 : 200);
    return this.found(kind, Object.values(pathKey), tenantId);
  }
}

/**
 * The tenant whose accounts a request works on: the caller's own, or — for a platform admin only — the one
 * `?tenant=` names. Anyone else naming another tenant: `403 TENANT_FROM_KEY`.
 */
export function accountsTenant(caller: Principal, named: unknown): string {
  if (named === undefined || named === caller.tenantId) return caller.tenantId;
  if (!isPlatformAdmin(caller)) {
    throw new ApiError(403, 'TENANT_FROM_KEY', 'query parameter tenant: the tenant is taken from your API key; only platform admins name another tenant');
  }
  if (typeof named !== 'string' || !TENANT_ID_PATTERN.test(named)) throw new ApiError(400, 'INVALID_PARAMETER', `tenant must be one tenant id matching ${TENANT_ID_PATTERN.source}`);
  return named;
}

/** A query parameter given once; a repeated one (an array) is a 400. */
function stringParam(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || typeof value === 'string') return value;
  throw new ApiError(400, 'INVALID_PARAMETER', `${name} must be given once`);
}

function sharedSingleKeyKind(collection: string): SharedSingleKeyKind {
  if ((SHARED_SINGLE_KEY_KINDS as readonly string[]).includes(collection)) return collection as SharedSingleKeyKind;
  throw new ApiError(404, 'NOT_FOUND', `no reference collection "${collection}"; use accounts, merchants, fx-rates or blocklist/<kind>/<value>`);
}

/** Another tenant's account is answered exactly like a missing one: it is not in the caller's tenant. */
function notFound(kind: ReferenceKind, key: string[], tenantId?: string): ApiError {
  return new ApiError(404, NAMES[kind].notFound, `no ${NAMES[kind].one} ${key.join(':')}${tenantId === undefined ? '' : ` in tenant ${tenantId}`}`);
}

function invalid(kind: ReferenceKind, problems: FieldProblem[]): ApiError {
  const summary = problems.map((p) => `${p.field || 'body'} ${p.reason}`).join('; ');
  return new ApiError(422, 'INVALID_REFERENCE_DATA', `the ${NAMES[kind].one} is invalid: ${summary}`, problems);
}
