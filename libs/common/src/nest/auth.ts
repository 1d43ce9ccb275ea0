/**
 * API key authentication, scopes and per-key rate limits for every service's HTTP API.
 *
 * Secure by default: the guard is global, and a route without `@RequireScope(...)` or `@Public()` needs
 * an `admin` key. Every authenticated request costs one token of its key's bucket, taken before the handler
 * runs; a handler whose cost depends on the request takes the rest once it knows it (ingest: one per event).
 */
import { applyDecorators, CanActivate, createParamDecorator, DynamicModule, ExecutionContext, Global, Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown, SetMetadata } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { isPlatformAdmin, PLATFORM_TENANT, Principal, Scope } from '../auth/api-key';
import { ApiKeyRegistry, PresentedCredentials } from '../auth/api-key.registry';
import { BucketLimits, TokenBuckets } from '../auth/token-bucket';
import type { Logger } from '../logging/logger';
import type { Counter, Metrics } from '../metrics/metrics.port';
import type { Database } from '../postgres/database';
import type { Clock } from '../time/clock';
import { ApiError } from './http-error.filter';
import type { ReadinessRegistry } from './readiness';
import { CLOCK, DATABASE, LOGGER, METRICS, READINESS } from './tokens';

export const API_KEYS = Symbol('ApiKeyRegistry');
export const RATE_LIMITER = Symbol('RateLimiter');

export interface AuthOptions {
  /** Prefix of this module's metric names (`<service>_auth_rejected_total`, `<service>_rate_limited_total`). */
  service: string;
  defaultLimits: BucketLimits;
  reloadPollMs: number;
}
export const AUTH_OPTIONS = Symbol('AuthOptions');

const SCOPE_METADATA = 'streamguard:scope';
const PUBLIC_METADATA = 'streamguard:public';
const PLATFORM_METADATA = 'streamguard:platform';

interface ScopeRequirement {
  scope: Scope;
}

/** The route needs a key with `scope`. A handler whose cost depends on the request charges the rest itself (RateLimiter). */
export const RequireScope = (scope: Scope) => SetMetadata(SCOPE_METADATA, { scope } satisfies ScopeRequirement);

/** The route changes what all tenants share: it needs an `admin` key of the platform tenant. */
export const RequirePlatformAdmin = () => applyDecorators(RequireScope('admin'), SetMetadata(PLATFORM_METADATA, true));

/** The route needs no key (health, readiness, metrics). */
export const Public = () => SetMetadata(PUBLIC_METADATA, true);

/** What the guard attaches to an authenticated request. */
export interface AuthenticatedCaller extends Principal {
  limits: BucketLimits;
}

type AuthenticatedRequest = { headers: PresentedCredentials; streamguardCaller?: AuthenticatedCaller };

/** The authenticated caller of the current request (handler parameter). */
export const Caller = createParamDecorator((_: unknown, context: ExecutionContext): AuthenticatedCaller => {
  const caller = context.switchToHttp().getRequest<AuthenticatedRequest>().streamguardCaller;
  if (!caller) throw new Error('@Caller() used on a route without @RequireScope()');
  return caller;
});

/** Per-key token buckets of this instance; 429 with Retry-After when a key is over its budget. */
export class RateLimiter {
  private readonly buckets = new TokenBuckets();
  private readonly limited: Counter;

  constructor(private readonly clock: Clock, metrics: Metrics, service: string) {
    this.limited = metrics.counter(`${service}_rate_limited_total`, 'Requests refused with 429 because the API key was over its rate limit, by tenant.', ['tenant']);
  }

  /**
   * Takes `cost` tokens from the caller's bucket or throws 429. `total` (default `cost`) is the request's
   * whole cost when part of it was charged earlier: more than the burst can never pass, so that is a 413.
   */
  charge(caller: AuthenticatedCaller, cost: number, unit = 'requests', total = cost): void {
    if (total > caller.limits.burst) {
      this.limited.inc({ tenant: caller.tenantId });
      throw new ApiError(413, 'EXCEEDS_RATE_LIMIT_BURST', `${total} ${unit} in one request exceed this API key's burst of ${caller.limits.burst}; split the request`);
    }
    if (cost <= 0) return;
    const result = this.buckets.take(caller.keyId, cost, caller.limits, this.clock.now());
    if (result.ok) return;
    this.limited.inc({ tenant: caller.tenantId });
    throw new ApiError(429, 'RATE_LIMITED', `API key ${caller.keyId} is over its limit of ${caller.limits.ratePerSecond} ${unit}/s (burst ${caller.limits.burst}); retry after ${result.retryAfterSeconds} s`, undefined, { 'Retry-After': String(result.retryAfterSeconds) });
  }
}

/**
 * Turns presented credentials into an {@link AuthenticatedCaller} and charges the request's first token, or
 * throws the ApiError to answer with. Used by the global guard and, for routes with large bodies, by a hook
 * that runs before the body is read ({@link authenticateBeforeBody}).
 */
export class Authenticator {
  private readonly rejected: Counter;

  constructor(private readonly keys: ApiKeyRegistry, private readonly limiter: RateLimiter, private readonly options: AuthOptions, metrics: Metrics) {
    this.rejected = metrics.counter(`${options.service}_auth_rejected_total`, 'API requests refused by authentication or authorisation, by reason.', ['reason']);
  }

  async admit(headers: PresentedCredentials, scope: Scope, platformOnly: boolean): Promise<AuthenticatedCaller> {
    const result = await this.keys.authenticate(headers, scope);
    if (!result.ok) {
      this.rejected.inc({ reason: result.code });
      const replyHeaders: Record<string, string> = result.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : result.status === 503 ? { 'Retry-After': '2' } : {};
      throw new ApiError(result.status, result.code, result.message, undefined, replyHeaders);
    }
    const caller: AuthenticatedCaller = {
      ...result.principal,
      limits: {
        ratePerSecond: result.limits.ratePerSecond ?? this.options.defaultLimits.ratePerSecond,
        burst: result.limits.burst ?? this.options.defaultLimits.burst,
      },
    };
    this.checkPlatform(caller, platformOnly);
    this.limiter.charge(caller, 1);
    return caller;
  }

  /** For a caller admitted earlier (before the body was read): the route's own requirements still apply. */
  recheck(caller: AuthenticatedCaller, scope: Scope, platformOnly: boolean): void {
    if (!caller.scopes.includes(scope)) {
      this.rejected.inc({ reason: 'SCOPE_REQUIRED' });
      throw new ApiError(403, 'SCOPE_REQUIRED', `API key ${caller.keyId} lacks the "${scope}" scope (it has: ${caller.scopes.join(', ')})`);
    }
    this.checkPlatform(caller, platformOnly);
  }

  private checkPlatform(caller: AuthenticatedCaller, platformOnly: boolean): void {
    if (platformOnly && !isPlatformAdmin(caller)) {
      this.rejected.inc({ reason: 'PLATFORM_ADMIN_REQUIRED' });
      throw new ApiError(403, 'PLATFORM_ADMIN_REQUIRED', `this API changes data shared by all tenants: use an admin key of the "${PLATFORM_TENANT}" tenant`);
    }
  }
}
export const AUTHENTICATOR = Symbol('Authenticator');

@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(AUTHENTICATOR) private readonly authenticator: Authenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Stage handlers (the Kafka transport) have no caller to authenticate: their input is the pipeline's own topics.
    if (context.getType?.() === 'rpc') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_METADATA, targets)) return true;
    const requirement = this.reflector.getAllAndOverride<ScopeRequirement | undefined>(SCOPE_METADATA, targets) ?? { scope: 'admin' };
    const platformOnly = this.reflector.getAllAndOverride<boolean>(PLATFORM_METADATA, targets) ?? false;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (request.streamguardCaller) this.authenticator.recheck(request.streamguardCaller, requirement.scope, platformOnly);
    else request.streamguardCaller = await this.authenticator.admit(request.headers, requirement.scope, platformOnly);
    return true;
  }
}

/**
 * Authenticates (and charges one token to) requests to the given routes in Fastify's `onRequest` hook, before
 * their body is read: a client without a valid key cannot make the service read and decode megabytes, and a
 * key over its budget is refused before its body costs anything. The guard then only re-checks the route's
 * scope. `routes`: method and route pattern as registered (e.g. `POST /v1/events`).
 */
export function authenticateBeforeBody(app: NestFastifyApplication, routes: Array<{ method: string; url: string; scope: Scope }>): void {
  const authenticator = app.get<Authenticator>(AUTHENTICATOR);
  app.getHttpAdapter().getInstance().addHook('onRequest', async (request: FastifyRequest) => {
    const route = routes.find((r) => r.method === request.method && r.url === request.routeOptions?.url);
    if (!route) return;
    (request as unknown as AuthenticatedRequest).streamguardCaller = await authenticator.admit(request.headers, route.scope, false);
  });
}

class ApiKeysLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(API_KEYS) private readonly keys: ApiKeyRegistry, @Inject(READINESS) private readonly readiness: ReadinessRegistry) {}

  onApplicationBootstrap(): void {
    this.readiness.register('api-keys', () => this.keys.isLoaded());
    this.keys.start();
  }

  onApplicationShutdown(): void {
    this.keys.stop();
  }
}

/** The global API key guard, the key table and the rate limiter. Needs the service's Postgres. */
@Global()
@Module({})
export class AuthModule {
  static forService(options: AuthOptions): DynamicModule {
    return {
      module: AuthModule,
      providers: [
        { provide: AUTH_OPTIONS, useValue: options },
        {
          provide: API_KEYS, inject: [DATABASE, LOGGER],
          useFactory: (db: Database, logger: Logger) => new ApiKeyRegistry(db, logger.child({ component: 'api-keys' }), options.reloadPollMs),
        },
        { provide: RATE_LIMITER, inject: [CLOCK, METRICS], useFactory: (clock: Clock, metrics: Metrics) => new RateLimiter(clock, metrics, options.service) },
        {
          provide: AUTHENTICATOR, inject: [API_KEYS, RATE_LIMITER, METRICS],
          useFactory: (keys: ApiKeyRegistry, limiter: RateLimiter, metrics: Metrics) => new Authenticator(keys, limiter, options, metrics),
        },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        ApiKeysLifecycle,
      ],
      exports: [API_KEYS, RATE_LIMITER, AUTHENTICATOR],
    };
  }
}
