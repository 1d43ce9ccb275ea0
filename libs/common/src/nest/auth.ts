/**
 * API key authentication, scopes and per-key rate limits for every service's HTTP API.
 *
 * Secure by default: the guard is global, and a route without `@RequireScope(...)` or `@Public()` needs
 * an `admin` key. Each authenticated request costs one token of its key's bucket, except routes marked
 * `chargedByHandler` (ingest charges one token per event once it knows how many there are).
 */
import { applyDecorators, CanActivate, createParamDecorator, DynamicModule, ExecutionContext, Global, Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown, SetMetadata } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
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
  chargedByHandler: boolean;
}

/** The route needs a key with `scope`. `chargedByHandler`: the handler charges the rate limit itself. */
export const RequireScope = (scope: Scope, options: { chargedByHandler?: boolean } = {}) =>
  SetMetadata(SCOPE_METADATA, { scope, chargedByHandler: options.chargedByHandler ?? false } satisfies ScopeRequirement);

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

  /** Takes `cost` tokens from the caller's bucket or throws 429 (413 when `cost` can never fit the burst). */
  charge(caller: AuthenticatedCaller, cost: number, unit = 'requests'): void {
    const result = this.buckets.take(caller.keyId, cost, caller.limits, this.clock.now());
    if (result.ok) return;
    this.limited.inc({ tenant: caller.tenantId });
    if (result.exceedsBurst) {
      throw new ApiError(413, 'EXCEEDS_RATE_LIMIT_BURST', `${cost} ${unit} in one request exceed this API key's burst of ${caller.limits.burst}; split the request`);
    }
    throw new ApiError(429, 'RATE_LIMITED', `API key ${caller.keyId} is over its limit of ${caller.limits.ratePerSecond} ${unit}/s (burst ${caller.limits.burst}); retry after ${result.retryAfterSeconds} s`, undefined, { 'Retry-After': String(result.retryAfterSeconds) });
  }
}

@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly rejected: Counter;

  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(API_KEYS) private readonly keys: ApiKeyRegistry,
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiter,
    @Inject(AUTH_OPTIONS) private readonly options: AuthOptions,
    @Inject(METRICS) metrics: Metrics,
  ) {
    this.rejected = metrics.counter(`${this.options.service}_auth_rejected_total`, 'API requests refused by authentication or authorisation, by reason.', ['reason']);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_METADATA, targets)) return true;
    const requirement = this.reflector.getAllAndOverride<ScopeRequirement | undefined>(SCOPE_METADATA, targets) ?? { scope: 'admin', chargedByHandler: false };
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const result = await this.keys.authenticate(request.headers, requirement.scope);
    if (!result.ok) {
      this.rejected.inc({ reason: result.code });
      const headers: Record<string, string> = result.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : result.status === 503 ? { 'Retry-After': '2' } : {};
      throw new ApiError(result.status, result.code, result.message, undefined, headers);
    }
    const caller: AuthenticatedCaller = {
      ...result.principal,
      limits: {
        ratePerSecond: result.limits.ratePerSecond ?? this.options.defaultLimits.ratePerSecond,
        burst: result.limits.burst ?? this.options.defaultLimits.burst,
      },
    };
    if (this.reflector.getAllAndOverride<boolean>(PLATFORM_METADATA, targets) && !isPlatformAdmin(caller)) {
      this.rejected.inc({ reason: 'PLATFORM_ADMIN_REQUIRED' });
      throw new ApiError(403, 'PLATFORM_ADMIN_REQUIRED', `this API changes data shared by all tenants: use an admin key of the "${PLATFORM_TENANT}" tenant`);
    }
    request.streamguardCaller = caller;
    if (!requirement.chargedByHandler) this.limiter.charge(caller, 1);
    return true;
  }
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
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        ApiKeysLifecycle,
      ],
      exports: [API_KEYS, RATE_LIMITER],
    };
  }
}
