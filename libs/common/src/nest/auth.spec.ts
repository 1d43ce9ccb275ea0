import { Reflector } from '@nestjs/core';
import type { ExecutionContext } from '@nestjs/common';
import { generateApiKey, Scope } from '../auth/api-key';
import { ApiKeyRegistry } from '../auth/api-key.registry';
import { JsonLogger } from '../logging/logger';
import { PrometheusMetrics } from '../metrics/prometheus-metrics';
import type { Database } from '../postgres/database';
import { ManualClock } from '../time/clock';
import { ApiError } from './http-error.filter';
import { ApiKeyGuard, Authenticator, AuthenticatedCaller, Public, RateLimiter, RequirePlatformAdmin, RequireScope } from './auth';

class Routes {
  @RequireScope('read') read(): void {}
  @Public() open(): void {}
  undecorated(): void {}
  @RequirePlatformAdmin() shared(): void {}
}

async function setup(keys: Array<{ tenant: string; scopes: Scope[] }>) {
  const generated = keys.map(() => generateApiKey());
  const rows = keys.map((k, i) => ({
    key_id: generated[i].keyId, tenant_id: k.tenant, name: '', scopes: k.scopes, rate_per_second: null, burst: null,
    created_at: new Date(0), revoked_at: null, token_sha256: Buffer.from(generated[i].tokenSha256),
  }));
  const db = { query: async () => ({ rows, rowCount: rows.length }) } as unknown as Database;
  const registry = new ApiKeyRegistry(db, new JsonLogger('error', { service: 'test' }), 60_000);
  await registry.reload();
  const metrics = new PrometheusMetrics('test');
  const limiter = new RateLimiter(new ManualClock(0), metrics, 'test');
  const authenticator = new Authenticator(registry, limiter, { service: 'test', defaultLimits: { ratePerSecond: 1, burst: 2 }, reloadPollMs: 1 }, metrics);
  const guard = new ApiKeyGuard(new Reflector(), authenticator);
  const call = async (route: keyof Routes, token?: string) => {
    const request: { headers: Record<string, string>; streamguardCaller?: AuthenticatedCaller } = { headers: token ? { authorization: `Bearer ${token}` } : {} };
    const context = { getHandler: () => Routes.prototype[route], getClass: () => Routes, switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
    try {
      await guard.canActivate(context);
      return { ok: true, caller: request.streamguardCaller };
    } catch (error) {
      return { ok: false, status: (error as ApiError).getStatus(), code: (error as ApiError).code };
    }
  };
  return { call, tokens: generated.map((g) => g.token) };
}

describe('ApiKeyGuard', () => {
  it('opens @Public routes to anyone and needs an admin key on routes that say nothing (closed by default)', async () => {
    const { call, tokens } = await setup([{ tenant: 'acme', scopes: ['read', 'ingest'] }, { tenant: 'acme', scopes: ['admin'] }]);
    expect(await call('open')).toEqual({ ok: true, caller: undefined });
    expect(await call('undecorated')).toMatchObject({ ok: false, status: 401 });
    expect(await call('undecorated', tokens[0])).toMatchObject({ ok: false, status: 403, code: 'SCOPE_REQUIRED' });
    expect(await call('undecorated', tokens[1])).toMatchObject({ ok: true });
  });

  it('attaches the caller with the default limits, and charges one token per request', async () => {
    const { call, tokens } = await setup([{ tenant: 'acme', scopes: ['read'] }]);
    expect(await call('read', tokens[0])).toMatchObject({ ok: true, caller: { tenantId: 'acme', scopes: ['read'], limits: { ratePerSecond: 1, burst: 2 } } });
    expect(await call('read', tokens[0])).toMatchObject({ ok: true });
    expect(await call('read', tokens[0])).toMatchObject({ ok: false, status: 429, code: 'RATE_LIMITED' });
  });

  it('refuses tenant admins on platform routes without charging them', async () => {
    const { call, tokens } = await setup([{ tenant: 'acme', scopes: ['admin'] }, { tenant: 'platform', scopes: ['admin'] }]);
    for (let i = 0; i < 3; i++) expect(await call('shared', tokens[0])).toMatchObject({ ok: false, status: 403, code: 'PLATFORM_ADMIN_REQUIRED' });
    expect(await call('undecorated', tokens[0])).toMatchObject({ ok: true }); // its budget is untouched
    expect(await call('shared', tokens[1])).toMatchObject({ ok: true });
  });
});
