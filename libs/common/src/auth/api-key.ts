/**
 * API keys and tenants: the token format, scopes and the principal a verified key stands for.
 *
 * A token is `sg_<keyId>_<secret>`: `keyId` (16 hex) is public and names the key in logs, lists and
 * revocations; `secret` is 32 random bytes (base64url). Only SHA-256 of the whole token is stored: with 256
 * random bits a fast hash cannot be brute-forced, so verification stays cheap enough for every request.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SCOPES = ['ingest', 'read', 'admin'] as const;
/** `ingest`: POST events. `read`: query aggregates and alerts. `admin`: rules, reference data, API keys. */
export type Scope = (typeof SCOPES)[number];

/** Tenant ids: lower-case letters, digits, `-` and `_`, 1–63 characters, starting with a letter or digit. */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * The operator's tenant. Its `admin` keys manage what all tenants share (reference data, global rules, every
 * tenant's keys); other tenants' `admin` keys manage their own rules and keys only.
 */
export const PLATFORM_TENANT = 'platform';

/** Who a request acts for: set by the API key guard, read by controllers. */
export interface Principal {
  tenantId: string;
  keyId: string;
  scopes: readonly Scope[];
}

export function isPlatformAdmin(principal: Principal): boolean {
  return principal.tenantId === PLATFORM_TENANT && principal.scopes.includes('admin');
}

const TOKEN = /^sg_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface GeneratedApiKey {
  keyId: string;
  /** The whole token: shown to its owner once, never stored. */
  token: string;
  tokenSha256: Uint8Array;
}

export function generateApiKey(): GeneratedApiKey {
  const keyId = randomBytes(8).toString('hex');
  const token = `sg_${keyId}_${randomBytes(32).toString('base64url')}`;
  return { keyId, token, tokenSha256: hashToken(token) };
}

/** The key id of a well-formed token, or undefined. */
export function keyIdOf(token: string): string | undefined {
  return TOKEN.exec(token)?.[1];
}

export function hashToken(token: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(token, 'utf8').digest());
}

/** Constant-time comparison of a presented token with a stored hash. */
export function tokenMatches(token: string, storedSha256: Uint8Array): boolean {
  const presented = hashToken(token);
  return presented.length === storedSha256.length && timingSafeEqual(presented, storedSha256);
}

/** A key request that cannot be honoured (bad tenant, scope, rate); the message says what to change. */
export class ApiKeyValidationError extends Error {}

/** Parses `ingest,read` into scopes; throws with the offending entry. */
export function parseScopes(text: string | readonly string[]): Scope[] {
  const entries = (typeof text === 'string' ? text.split(',') : [...text]).map((s) => s.trim()).filter((s) => s !== '');
  if (entries.length === 0) throw new ApiKeyValidationError(`no scopes given; choose from ${SCOPES.join(', ')}`);
  for (const entry of entries) {
    if (!(SCOPES as readonly string[]).includes(entry)) throw new ApiKeyValidationError(`unknown scope "${entry}"; choose from ${SCOPES.join(', ')}`);
  }
  return [...new Set(entries)] as Scope[];
}

export function checkTenantId(tenantId: string): void {
  if (!TENANT_ID_PATTERN.test(tenantId)) {
    throw new ApiKeyValidationError(`tenant "${tenantId}" is not a valid tenant id: use 1-63 lower-case letters, digits, "-" or "_", starting with a letter or digit`);
  }
}
