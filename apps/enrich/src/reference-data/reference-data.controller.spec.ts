import type { ExecutionContext } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  ApiError, ApiKeyGuard, ApiKeyRegistry, AuthenticatedCaller, Authentication, Authenticator, ManualClock, Metrics, PLATFORM_TENANT, RateLimiter, Scope,
} from '@streamguard/common';
import type { FastifyReply } from 'fastify';
import { accountsTenant, ReferenceDataController } from './reference-data.controller';
import type { ReferenceDataRepository } from './reference-data.repository';

const noMetrics: Metrics = {
  counter: () => ({ inc: () => undefined }),
  gauge: () => ({ set: () => undefined, inc: () => undefined, dec: () => undefined }),
  histogram: () => ({ observe: () => undefined }),
  render: async () => '',
  contentType: 'text/plain',
};

const caller = (tenantId: string, scopes: Scope[] = ['admin']): AuthenticatedCaller => ({ tenantId, keyId: `key-${tenantId}`, scopes, limits: { ratePerSecond: 1000, burst: 1000 } });
const TENANT_ADMIN = caller('acme');
const PLATFORM_ADMIN = caller(PLATFORM_TENANT, ['admin', 'read']);

/** The ApiError `fn` throws (or rejects with), as `{status, code}`. */
async function errorOf(fn: () => unknown): Promise<{ status: number; code: string; details?: unknown }> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    const e = error as ApiError;
    return { status: e.getStatus(), code: e.code, ...(e.details === undefined ? {} : { details: e.details }) };
  }
  throw new Error('expected an ApiError');
}

/** Every route of the controller: handler name, HTTP method and path. */
function routes(): Array<{ name: string; method: string; path: string }> {
  const prototype = ReferenceDataController.prototype as unknown as Record<string, unknown>;
  return Object.getOwnPropertyNames(prototype)
    .filter((name) => name !== 'constructor' && typeof prototype[name] === 'function' && Reflect.getMetadata(PATH_METADATA, prototype[name] as object) !== undefined)
    .map((name) => ({
      name,
      method: RequestMethod[Reflect.getMetadata(METHOD_METADATA, prototype[name] as object) as number],
      path: Reflect.getMetadata(PATH_METADATA, prototype[name] as object) as string,
    }));
}

describe('ReferenceDataController access (the real API key guard on every route)', () => {
  /** Runs the guard for `handler` with a key that authenticates as `who`. */
  async function guard(name: string, who: AuthenticatedCaller): Promise<'allowed' | string> {
    const registry = {
      authenticate: async (_headers: unknown, scope: Scope): Promise<Authentication> => who.scopes.includes(scope)
        ? { ok: true, principal: { tenantId: who.tenantId, keyId: who.keyId, scopes: who.scopes }, limits: { ratePerSecond: null, burst: null } }
        : { ok: false, status: 403, code: 'SCOPE_REQUIRED', message: 'scope' },
    } as unknown as ApiKeyRegistry;
    const options = { service: 'enrich', defaultLimits: { ratePerSecond: 1000, burst: 1000 }, reloadPollMs: 1000 };
    const subject = new ApiKeyGuard(new Reflector(), new Authenticator(registry, new RateLimiter(new ManualClock(0), noMetrics, 'enrich'), options, noMetrics));
    const handler = (ReferenceDataController.prototype as unknown as Record<string, () => unknown>)[name];
    const context = {
      getHandler: () => handler, getClass: () => ReferenceDataController,
      switchToHttp: () => ({ getRequest: () => ({ headers: {} }) }),
    } as unknown as ExecutionContext;
    try {
      await subject.canActivate(context);
      return 'allowed';
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return error.code;
    }
  }

  it('has the routes this test expects (a new route must be added here with its access rule)', () => {
    expect(routes().map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'DELETE :collection/:id', 'DELETE accounts/:id', 'DELETE blocklist/:kind/:value',
      'GET :collection', 'GET :collection/:id', 'GET accounts', 'GET accounts/:id', 'GET blocklist', 'GET blocklist/:kind/:value',
      'PUT :collection/:id', 'PUT accounts/:id', 'PUT blocklist/:kind/:value',
    ]);
  });

  it('lets a tenant admin reach the accounts routes only; merchants, FX rates and blocklist need a platform admin', async () => {
    for (const route of routes()) {
      const expected = route.path.startsWith('accounts') ? 'allowed' : 'PLATFORM_ADMIN_REQUIRED';
      expect([route.name, await guard(route.name, TENANT_ADMIN)]).toEqual([route.name, expected]);
      expect([route.name, await guard(route.name, PLATFORM_ADMIN)]).toEqual([route.name, 'allowed']);
      // admin scope on every route, accounts included
      expect([route.name, await guard(route.name, caller('acme', ['ingest', 'read']))]).toEqual([route.name, 'SCOPE_REQUIRED']);
    }
  });
});

describe('ReferenceDataController accounts (per tenant)', () => {
  const STORED = { accountId: 'acc-1', homeCountry: 'DE', riskTier: 'standard', openedAt: null, updatedAt: '2026-01-01T00:00:00.000Z' };

  function setup(found: unknown = STORED) {
    const repository = {
      get: jest.fn(async () => found),
      list: jest.fn(async () => [STORED]),
      delete: jest.fn(async () => true),
      upsert: jest.fn(async () => ({ inserted: 1, updated: 0, unchanged: 0 })),
    };
    const reply = { status: jest.fn() } as unknown as FastifyReply;
    return { repository, reply, controller: new ReferenceDataController(repository as unknown as ReferenceDataRepository) };
  }

  it('works on the caller\'s own tenant', async () => {
    const { repository, reply, controller } = setup();
    await controller.getAccount('acc-1', {}, TENANT_ADMIN);
    await controller.putAccount('acc-1', {}, { homeCountry: 'DE' }, TENANT_ADMIN, reply);
    await controller.deleteAccount('acc-1', {}, TENANT_ADMIN);
    expect(await controller.listAccounts({ limit: '1' }, TENANT_ADMIN)).toEqual({ accounts: [STORED], next: 'acc-1' });
    expect(repository.get).toHaveBeenCalledWith('accounts', ['acc-1'], 'acme');
    expect(repository.upsert).toHaveBeenCalledWith('accounts', [{ accountId: 'acc-1', homeCountry: 'DE', riskTier: 'standard', openedAt: null }], { tenantId: 'acme' });
    expect(repository.delete).toHaveBeenCalledWith('accounts', ['acc-1'], 'acme');
    expect(repository.list).toHaveBeenCalledWith('accounts', 1, { tenantId: 'acme', after: undefined });
    // The platform admin's own accounts are the platform tenant's.
    await controller.getAccount('acc-1', {}, PLATFORM_ADMIN);
    expect(repository.get).toHaveBeenLastCalledWith('accounts', ['acc-1'], PLATFORM_TENANT);
  });

  it('lets a platform admin name another tenant with ?tenant=', async () => {
    const { repository, reply, controller } = setup();
    await controller.putAccount('acc-1', { tenant: 'globex' }, { homeCountry: 'DE' }, PLATFORM_ADMIN, reply);
    await controller.listAccounts({ tenant: 'globex', after: 'acc-0' }, PLATFORM_ADMIN);
    expect(repository.upsert).toHaveBeenCalledWith('accounts', expect.any(Array), { tenantId: 'globex' });
    expect(repository.list).toHaveBeenCalledWith('accounts', 100, { tenantId: 'globex', after: ['acc-0'] });
  });

  it('refuses another tenant to anyone else with 403 TENANT_FROM_KEY, before touching the repository', async () => {
    const { repository, reply, controller } = setup();
    const other = { tenant: 'globex' };
    expect(await errorOf(() => controller.getAccount('acc-1', other, TENANT_ADMIN))).toEqual({ status: 403, code: 'TENANT_FROM_KEY' });
    expect(await errorOf(() => controller.putAccount('acc-1', other, { homeCountry: 'DE' }, TENANT_ADMIN, reply))).toEqual({ status: 403, code: 'TENANT_FROM_KEY' });
    expect(await errorOf(() => controller.deleteAccount('acc-1', other, TENANT_ADMIN))).toEqual({ status: 403, code: 'TENANT_FROM_KEY' });
    expect(await errorOf(() => controller.listAccounts(other, TENANT_ADMIN))).toEqual({ status: 403, code: 'TENANT_FROM_KEY' });
    // A platform key without admin is no platform admin either.
    expect(await errorOf(() => controller.getAccount('acc-1', other, caller(PLATFORM_TENANT, ['read'])))).toEqual({ status: 403, code: 'TENANT_FROM_KEY' });
    expect([repository.get, repository.upsert, repository.delete, repository.list].map((m) => m.mock.calls.length)).toEqual([0, 0, 0, 0]);
  });

  it('answers 422 to a body naming tenantId (with every other problem), and stores nothing', async () => {
    const { repository, reply, controller } = setup();
    for (const who of [TENANT_ADMIN, PLATFORM_ADMIN]) {
      expect(await errorOf(() => controller.putAccount('acc-1', {}, { tenantId: 'globex', homeCountry: 'Germany' }, who, reply))).toEqual({
        status: 422, code: 'INVALID_REFERENCE_DATA', details: [
          { field: 'tenantId', reason: 'must not be in the body: the tenant is taken from your API key (platform admins add ?tenant=<id>)' },
          { field: 'homeCountry', reason: 'must be 1-2 characters, got 7' },
        ],
      });
    }
    expect(await errorOf(() => controller.putAccount('acc-1', {}, { tenantId: 'acme' }, TENANT_ADMIN, reply))).toMatchObject({ status: 422 });
    expect(repository.upsert).not.toHaveBeenCalled();
  });

  it('answers 404 for an account missing from the tenant (another tenant\'s answers the same), and 400 for bad parameters', async () => {
    const { controller } = setup(null);
    expect(await errorOf(() => controller.getAccount('acc-1', {}, TENANT_ADMIN))).toEqual({ status: 404, code: 'ACCOUNT_NOT_FOUND' });
    expect(await errorOf(() => controller.getAccount('acc-1', { tenant: 'Not Valid' }, PLATFORM_ADMIN))).toEqual({ status: 400, code: 'INVALID_PARAMETER' });
    expect(await errorOf(() => controller.getAccount('acc-1', { tenant: ['a', 'b'] }, PLATFORM_ADMIN))).toEqual({ status: 400, code: 'INVALID_PARAMETER' });
    expect(await errorOf(() => controller.listAccounts({ limit: ['1', '2'] }, TENANT_ADMIN))).toEqual({ status: 400, code: 'INVALID_PARAMETER' });
    expect(await errorOf(() => controller.getAccount('acc-1', { tenantId: 'acme' }, TENANT_ADMIN))).toEqual({ status: 400, code: 'UNKNOWN_PARAMETER' });
  });

  it('serves only merchants and FX rates on the :collection routes, without a tenant', async () => {
    const { repository, controller } = setup();
    await controller.get('merchants', 'm-1');
    expect(repository.get).toHaveBeenCalledWith('merchants', ['m-1'], undefined);
    expect(await errorOf(() => controller.get('accounts', 'acc-1'))).toEqual({ status: 404, code: 'NOT_FOUND' });
  });
});

describe('accountsTenant', () => {
  it.each([
    [TENANT_ADMIN, undefined, 'acme'],
    [TENANT_ADMIN, 'acme', 'acme'],
    [PLATFORM_ADMIN, undefined, PLATFORM_TENANT],
    [PLATFORM_ADMIN, 'globex', 'globex'],
  ])('%o naming %p works on %p', (who, named, expected) => {
    expect(accountsTenant(who, named)).toBe(expected);
  });
});
