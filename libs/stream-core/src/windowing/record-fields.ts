/** Reading group-by and aggregation fields out of a record value, and encoding group keys. */

export type FieldScalar = string | number | boolean;

/** Reads a dot path ('location.country'): each segment descends one object level. Missing → undefined. */
export function readFieldPath(value: Readonly<Record<string, unknown>>, path: string): unknown {
  let current: unknown = value;
  for (const segment of path.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

export function isFieldScalar(x: unknown): x is FieldScalar {
  return typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x));
}

/**
 * Group key encoding: each group-by value rendered with `String(value)`, with `\` and `|` escaped by a
 * backslash, joined by `|` in `groupBy` order. So `{accountId:'acc-1'}` → `acc-1`, and
 * `{accountId:'acc-1', cardId:'card-9'}` → `acc-1|card-9`; `'a|b'` → `a\|b`. The encoding is injective on
 * strings; the number 1 and the string '1' share a group (the group object keeps the first-seen value).
 */
export function encodeGroupKey(values: readonly FieldScalar[]): string {
  return values.map((v) => String(v).replace(/[\\|]/g, (c) => `\\${c}`)).join('|');
}

/**
 * Longest group key (UTF-8 bytes) a window or rule may use. Group keys are parts of Postgres primary keys (window
 * state, results, rule state), and an index entry holds at most about 2.7 kB with the rest of the key: a longer
 * group key would fail every commit of its batch. Every key of an event ingest accepts, grouped by tenant and
 * account, fits with room to spare (a rule's percent-encoded `tenantId=…|accountId=…` is at most 1,235 bytes).
 */
export const MAX_GROUP_KEY_BYTES = 2048;

const utf8 = new TextEncoder();

/** Whether `text` is at most `maxBytes` in UTF-8; measured only when it could be more (a UTF-16 unit is at most 3 bytes). */
export function fitsUtf8Bytes(text: string, maxBytes: number): boolean {
  return text.length * 3 <= maxBytes || utf8.encode(text).length <= maxBytes;
}

/** Whether `key` fits {@link MAX_GROUP_KEY_BYTES}. */
export function fitsGroupKeyLimit(key: string): boolean {
  return fitsUtf8Bytes(key, MAX_GROUP_KEY_BYTES);
}

export type GroupExtraction = { ok: true; groupKey: string; group: Record<string, FieldScalar> } | { ok: false; reason: string };

/**
 * Group-by fields must be present, non-null scalars, and the group key at most {@link MAX_GROUP_KEY_BYTES};
 * anything else makes the record invalid for the definition.
 */
export function extractGroup(value: Readonly<Record<string, unknown>>, groupBy: readonly string[]): GroupExtraction {
  const group: Record<string, FieldScalar> = {};
  const parts: FieldScalar[] = [];
  for (const path of groupBy) {
    const field = readFieldPath(value, path);
    if (field === undefined || field === null) return { ok: false, reason: `groupBy field '${path}' is missing or null` };
    if (!isFieldScalar(field)) return { ok: false, reason: `groupBy field '${path}' is not a string, finite number or boolean` };
    group[path] = field;
    parts.push(field);
  }
  const groupKey = encodeGroupKey(parts);
  if (!fitsGroupKeyLimit(groupKey)) return { ok: false, reason: `group key is longer than ${MAX_GROUP_KEY_BYTES} bytes` };
  return { ok: true, groupKey, group };
}

const NUMERIC_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Finite numbers, and strings holding a plain decimal number (money is often sent as text), are numeric. */
export function toFiniteNumber(x: unknown): number | undefined {
  if (typeof x === 'number') return Number.isFinite(x) ? x : undefined;
  if (typeof x === 'string' && NUMERIC_TEXT.test(x.trim())) {
    const n = Number(x.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}
