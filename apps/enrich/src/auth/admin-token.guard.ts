/**
 * Authentication of the reference-data API, for now: one bearer token from `ADMIN_API_TOKEN`. Never open
 * by default: without the variable the endpoints answer 503 saying how to enable them. Kept to this one
 * class so scoped per-tenant API keys can replace it without touching the controllers.
 */
import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ApiError } from '@streamguard/common';
import { createHash, timingSafeEqual } from 'node:crypto';

export const ADMIN_API_TOKEN = Symbol('AdminApiToken');

const digest = (value: string): Uint8Array => new Uint8Array(createHash('sha256').update(value, 'utf8').digest());

@Injectable()
export class AdminTokenGuard implements CanActivate {
  /** Hashed once: comparing fixed-length digests keeps the comparison constant-time whatever the input length. */
  private readonly expected?: Uint8Array;

  constructor(@Inject(ADMIN_API_TOKEN) token: string | undefined) {
    this.expected = token === undefined ? undefined : digest(token);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) {
      throw new ApiError(503, 'ADMIN_API_DISABLED', 'the reference-data API is disabled: set ADMIN_API_TOKEN on the enrich service to enable it');
    }
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer +(\S+) *$/i.exec(header) : null;
    if (!match || !timingSafeEqual(digest(match[1]), this.expected)) {
      throw new ApiError(401, 'UNAUTHORIZED', 'send the admin token as "Authorization: Bearer <ADMIN_API_TOKEN>"', undefined, { 'WWW-Authenticate': 'Bearer' });
    }
    return true;
  }
}
