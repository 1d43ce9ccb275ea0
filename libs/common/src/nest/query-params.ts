/** Query-string parsing shared by the read APIs: precise 400s instead of silently ignored parameters. */
import { parseEventTime } from '../contracts/transaction-event';
import { ApiError } from './http-error.filter';

/** `from`/`to`: RFC 3339 or epoch ms, like `occurredAt`. */
export function parseTimeParam(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = parseEventTime(/^\d+$/.test(raw) ? Number(raw) : raw);
  if (Number.isNaN(value)) throw new ApiError(400, 'INVALID_PARAMETER', `${name} must be an RFC 3339 date-time with offset or epoch milliseconds`);
  return value;
}

export function parseLimit(raw: string | undefined, fallback = 100, max = 1000): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new ApiError(400, 'INVALID_PARAMETER', `limit must be an integer from 1 to ${max}`);
  return value;
}

/** A typo in a filter must not return everything: unknown parameters are a 400. */
export function rejectUnknownParams(query: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(query).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new ApiError(400, 'UNKNOWN_PARAMETER', `unknown query parameter(s): ${unknown.join(', ')}; allowed: ${allowed.join(', ')}`);
}
