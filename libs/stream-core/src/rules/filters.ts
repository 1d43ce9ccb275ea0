import type { Comparison, FieldFilter, RuleEvent, RuleScalar } from './rule-definition';

const hasOwn = (obj: object, key: string): boolean => Object.prototype.hasOwnProperty.call(obj, key);

/**
 * Resolves a dot path against an event.
 * - `tenantId`, `accountId`, `eventId` and `eventTime` resolve to the RuleEvent's own (authoritative) fields,
 *   even when `value` carries a field of the same name.
 * - every other path walks `value`: own properties of objects only (never the prototype chain), and array
 *   elements by decimal index (`blocklistHits.0.kind`).
 * Returns `undefined` when any step is missing.
 */
export function getFieldValue(event: RuleEvent, path: string): unknown {
  if (path === 'tenantId') return event.tenantId;
  if (path === 'accountId') return event.accountId;
  if (path === 'eventId') return event.eventId;
  if (path === 'eventTime') return event.eventTime;
  let current: unknown = event.value;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    if (Array.isArray(current)) {
      if (!/^(0|[1-9]\d*)$/.test(segment)) return undefined;
      current = current[Number(segment)];
    } else {
      if (!hasOwn(current, segment)) return undefined;
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return current;
}

/** `null` counts as missing: upstream enrichment writes null for "unknown". */
export const isPresent = (x: unknown): boolean => x !== undefined && x !== null;

/**
 * Compares a present field value with a rule scalar, without type coercion:
 * `==` is strict equality and `!=` its negation; `<`, `<=`, `>`, `>=` hold only when both sides are numbers or
 * both are strings (strings compare by UTF-16 code units, locale-independent), otherwise they are false.
 */
export function compareValues(actual: unknown, op: Comparison, expected: RuleScalar): boolean {
  switch (op) {
    case '==':
      return actual === expected;
    case '!=':
      return actual !== expected;
  }
  const comparable =
    (typeof actual === 'number' && typeof expected === 'number' && !Number.isNaN(actual)) ||
    (typeof actual === 'string' && typeof expected === 'string');
  if (!comparable) return false;
  const a = actual as number | string;
  switch (op) {
    case '<':
      return a < expected;
    case '<=':
      return a <= expected;
    case '>':
      return a > expected;
    case '>=':
      return a >= expected;
  }
}

/** Applies one (validated) filter. A missing or null field fails every operator except `exists: false`. */
export function matchesFilter(event: RuleEvent, filter: FieldFilter): boolean {
  const actual = getFieldValue(event, filter.field);
  if (filter.op === 'exists') return filter.value === false ? !isPresent(actual) : isPresent(actual);
  if (!isPresent(actual)) return false;
  switch (filter.op) {
    case 'in':
      return (filter.value as readonly unknown[]).includes(actual);
    case 'notIn':
      return !(filter.value as readonly unknown[]).includes(actual);
    default:
      return compareValues(actual, filter.op, filter.value as RuleScalar);
  }
}

/** AND of all filters; an empty or absent list passes. */
export function matchesAll(event: RuleEvent, filters: readonly FieldFilter[] | undefined): boolean {
  return filters === undefined || filters.every((f) => matchesFilter(event, f));
}
