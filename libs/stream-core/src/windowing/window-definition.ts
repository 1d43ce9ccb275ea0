/**
 * Window definitions: the configuration a `PartitionWindowOperator` runs, and the validator that turns
 * untrusted JSON (e.g. an env var) into them. Validation is strict (unknown keys are rejected) because a
 * typo such as `allowedLateness` silently falling back to a default would change results, not fail loudly.
 */

export type WindowSpec =
  | { type: 'tumbling'; sizeMs: number; offsetMs?: number }
  | { type: 'hopping'; sizeMs: number; advanceMs: number; offsetMs?: number }
  /** Per-event lookback: each record at t defines [t - sizeMs, t] (inclusive both ends), reported as [t - sizeMs, t + 1). */
  | { type: 'sliding'; sizeMs: number }
  /** Inactivity gap: [first event, last event + gapMs); a bridging event merges two sessions. */
  | { type: 'session'; gapMs: number }
  /** Every `size` accepted records per key, in arrival order; event-time independent. */
  | { type: 'count'; size: number };

export type WindowType = WindowSpec['type'];

export type AggregationFn = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'stddev' | 'countDistinct' | 'approxCountDistinct' | 'first' | 'last';

/** `field` is required except for `count` (without a field: all records; with one: records where it is not null). */
export interface AggregationSpec {
  name: string;
  fn: AggregationFn;
  field?: string;
}

export type EmitMode = 'final' | 'update';

export interface WindowDefinition {
  /** Stable id, e.g. 'account-1m'; part of state-store keys, so renaming a definition drops its state. */
  name: string;
  /** Field paths (dots descend into objects, e.g. 'location.country') of the record value; at least one. */
  groupBy: string[];
  window: WindowSpec;
  aggregations: AggregationSpec[];
  allowedLatenessMs: number;
  emit: EmitMode;
}

export const WINDOW_TYPES: readonly WindowType[] = ['tumbling', 'hopping', 'sliding', 'session', 'count'];
export const WINDOW_AGGREGATION_FNS: readonly AggregationFn[] = [
  'count',
  'sum',
  'min',
  'max',
  'avg',
  'stddev',
  'countDistinct',
  'approxCountDistinct',
  'first',
  'last',
];
export const WINDOW_DEFINITION_NAME_PATTERN = /^[a-z0-9][a-z0-9\-_.]{0,62}$/;
const AGGREGATION_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const FIELD_PATH_PATTERN = /^[^.\s]+(\.[^.\s]+)*$/;

export class WindowDefinitionError extends Error {
  readonly code = 'INVALID_WINDOW_DEFINITION';
  constructor(
    /** Index of the offending definition in the input array, or undefined when the input itself is wrong. */
    readonly index: number | undefined,
    /** Dotted path of the offending field inside the definition, e.g. 'window.sizeMs'. */
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${index === undefined ? 'windowDefinitions' : `windowDefinitions[${index}]`}${field ? `.${field}` : ''}: ${reason}`);
    this.name = 'WindowDefinitionError';
  }
}

type Json = Record<string, unknown>;

/**
 * Validates untrusted config and applies defaults (offsetMs 0, allowedLatenessMs 0, emit 'final').
 * Throws `WindowDefinitionError` naming the definition index, field and reason on the first problem.
 */
export function parseWindowDefinitions(input: unknown): WindowDefinition[] {
  if (!Array.isArray(input)) throw new WindowDefinitionError(undefined, '', `must be an array (got ${describe(input)})`);
  const seen = new Set<string>();
  return input.map((raw, index) => {
    const definition = parseDefinition(raw, index);
    if (seen.has(definition.name)) throw new WindowDefinitionError(index, 'name', `duplicate definition name '${definition.name}'`);
    seen.add(definition.name);
    return definition;
  });
}

function parseDefinition(raw: unknown, index: number): WindowDefinition {
  const fail = (field: string, reason: string): never => {
    throw new WindowDefinitionError(index, field, reason);
  };
  if (!isObject(raw)) return fail('', `must be an object (got ${describe(raw)})`);
  rejectUnknownKeys(raw, ['name', 'groupBy', 'window', 'aggregations', 'allowedLatenessMs', 'emit'], '', fail);

  const { name } = raw;
  if (typeof name !== 'string' || !WINDOW_DEFINITION_NAME_PATTERN.test(name)) {
    fail('name', `must match ${WINDOW_DEFINITION_NAME_PATTERN} (got ${describe(name)})`);
  }
  const groupBy = raw.groupBy;
  if (!Array.isArray(groupBy) || groupBy.length === 0) fail('groupBy', `must be a non-empty array of field paths (got ${describe(groupBy)})`);
  (groupBy as unknown[]).forEach((path, i) => {
    if (typeof path !== 'string' || !FIELD_PATH_PATTERN.test(path)) fail(`groupBy[${i}]`, `must be a field path like 'location.country' (got ${describe(path)})`);
  });

  const window = parseWindowSpec(raw.window, fail);
  const aggregations = parseAggregations(raw.aggregations, fail);

  const allowedLatenessMs = raw.allowedLatenessMs ?? 0;
  if (!isNonNegativeInteger(allowedLatenessMs)) fail('allowedLatenessMs', `must be an integer >= 0 (got ${describe(allowedLatenessMs)})`);
  const emit = raw.emit ?? 'final';
  if (emit !== 'final' && emit !== 'update') fail('emit', `must be 'final' or 'update' (got ${describe(emit)})`);

  return {
    name: name as string,
    groupBy: [...(groupBy as string[])],
    window,
    aggregations,
    allowedLatenessMs: allowedLatenessMs as number,
    emit: emit as EmitMode,
  };
}

function parseWindowSpec(raw: unknown, fail: (field: string, reason: string) => never): WindowSpec {
  if (!isObject(raw)) return fail('window', `must be an object (got ${describe(raw)})`);
  const positive = (key: string): number => {
    const value = raw[key];
    if (!isPositiveInteger(value)) fail(`window.${key}`, `must be a positive integer (got ${describe(value)})`);
    return value as number;
  };
  const offset = (period: number, periodKey: string): number => {
    const value = raw.offsetMs ?? 0;
    if (!isNonNegativeInteger(value) || (value as number) >= period) {
      fail('window.offsetMs', `must be an integer in [0, ${periodKey}) (got ${describe(value)})`);
    }
    return value as number;
  };
  switch (raw.type) {
    case 'tumbling': {
      rejectUnknownKeys(raw, ['type', 'sizeMs', 'offsetMs'], 'window', fail);
      const sizeMs = positive('sizeMs');
      return { type: 'tumbling', sizeMs, offsetMs: offset(sizeMs, 'sizeMs') };
    }
    case 'hopping': {
      rejectUnknownKeys(raw, ['type', 'sizeMs', 'advanceMs', 'offsetMs'], 'window', fail);
      const sizeMs = positive('sizeMs');
      const advanceMs = positive('advanceMs');
      // advance > size would leave gaps that no window covers; records there would silently vanish.
      if (advanceMs > sizeMs) fail('window.advanceMs', `must be <= sizeMs (${sizeMs}) (got ${advanceMs})`);
      return { type: 'hopping', sizeMs, advanceMs, offsetMs: offset(advanceMs, 'advanceMs') };
    }
    case 'sliding':
      rejectUnknownKeys(raw, ['type', 'sizeMs'], 'window', fail);
      return { type: 'sliding', sizeMs: positive('sizeMs') };
    case 'session':
      rejectUnknownKeys(raw, ['type', 'gapMs'], 'window', fail);
      return { type: 'session', gapMs: positive('gapMs') };
    case 'count':
      rejectUnknownKeys(raw, ['type', 'size'], 'window', fail);
      return { type: 'count', size: positive('size') };
    default:
      return fail('window.type', `must be one of ${WINDOW_TYPES.join(', ')} (got ${describe(raw.type)})`);
  }
}

function parseAggregations(raw: unknown, fail: (field: string, reason: string) => never): AggregationSpec[] {
  if (!Array.isArray(raw)) return fail('aggregations', `must be an array (got ${describe(raw)})`);
  const names = new Set<string>();
  return raw.map((agg, i): AggregationSpec => {
    const at = `aggregations[${i}]`;
    if (!isObject(agg)) return fail(at, `must be an object (got ${describe(agg)})`);
    rejectUnknownKeys(agg, ['name', 'fn', 'field'], at, fail);
    if (typeof agg.name !== 'string' || !AGGREGATION_NAME_PATTERN.test(agg.name)) {
      fail(`${at}.name`, `must match ${AGGREGATION_NAME_PATTERN} (got ${describe(agg.name)})`);
    }
    if (names.has(agg.name as string)) fail(`${at}.name`, `duplicate aggregation name '${agg.name as string}'`);
    names.add(agg.name as string);
    if (!WINDOW_AGGREGATION_FNS.includes(agg.fn as AggregationFn)) {
      fail(`${at}.fn`, `must be one of ${WINDOW_AGGREGATION_FNS.join(', ')} (got ${describe(agg.fn)})`);
    }
    if (agg.field === undefined) {
      if (agg.fn !== 'count') fail(`${at}.field`, `is required for fn '${agg.fn as string}'`);
      return { name: agg.name as string, fn: 'count' };
    }
    if (typeof agg.field !== 'string' || !FIELD_PATH_PATTERN.test(agg.field)) {
      fail(`${at}.field`, `must be a field path like 'amount' (got ${describe(agg.field)})`);
    }
    return { name: agg.name as string, fn: agg.fn as AggregationFn, field: agg.field as string };
  });
}

function rejectUnknownKeys(obj: Json, allowed: string[], at: string, fail: (field: string, reason: string) => never): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) fail(at ? `${at}.${key}` : key, `unknown field (allowed: ${allowed.join(', ')})`);
  }
}

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
function isPositiveInteger(x: unknown): boolean {
  return typeof x === 'number' && Number.isSafeInteger(x) && x > 0;
}
function isNonNegativeInteger(x: unknown): boolean {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}
function describe(x: unknown): string {
  if (x === undefined) return 'undefined';
  try {
    const text = JSON.stringify(x);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return typeof x;
  }
}
