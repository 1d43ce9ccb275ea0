/**
 * Rule definitions are data: they arrive as JSON from Postgres or the REST API, so everything here is
 * checked at runtime by {@link validateRule} before the engine ever sees it.
 */
import { TENANT_FIELD } from '../tenancy/tenant-scope';

/** An enriched transaction as the alert service hands it to the rule engine. */
export interface RuleEvent {
  /** Id of the event, unique within its tenant; used for de-duplication and in the deterministic alert id. */
  eventId: string;
  /** Event time, epoch milliseconds. All windows, lookbacks and cooldowns use this, never the wall clock. */
  eventTime: number;
  /**
   * The tenant the event belongs to (the authoritative value for the `tenantId` field path). Part of every
   * default group key, and decides which tenant rules ({@link RuleBase.tenantId}) see the event.
   */
  tenantId: string;
  /** The account the event belongs to, within its tenant (the authoritative value for the `accountId` field path). */
  accountId: string;
  /**
   * The whole enriched event: amount, amountUsd, currency, merchantId, cardId, deviceId, ipAddress, country,
   * location {lat, lon}, channel, attributes {...}, account {...}, merchant {...}, blocklistHits [...], flags [...].
   */
  value: Readonly<Record<string, unknown>>;
}

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export type Comparison = '>' | '>=' | '<' | '<=' | '==' | '!=';
export type FieldFilterOp = Comparison | 'in' | 'notIn' | 'exists';
export type RuleStatus = 'active' | 'paused';
export type BlocklistKind = 'merchant' | 'card' | 'device' | 'ip' | 'country';
export type RuleAggregation = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'countDistinct';
/** A JSON scalar a rule can compare a field with. */
export type RuleScalar = number | string | boolean;

/**
 * A condition on one field of the event (see SEMANTICS.md, "Field paths and filters").
 * - comparisons (`>`, `>=`, `<`, `<=`, `==`, `!=`) take a number, string or boolean `value`; no type coercion.
 * - `in` / `notIn` take a non-empty array of scalars.
 * - `exists` takes an optional boolean `value` (default `true`); `false` means "absent or null".
 * A missing or null field fails every operator except `exists: false`.
 */
export interface FieldFilter {
  field: string;
  op: FieldFilterOp;
  value?: unknown;
}

export interface RuleBase {
  /** `[a-z0-9][a-z0-9-_.]{0,63}`; rules are evaluated in ascending id order. */
  id: string;
  /** Integer >= 1. A new version starts with fresh state (see {@link RuleEngine.setRules}). */
  version: number;
  name: string;
  description?: string;
  severity: Severity;
  /** Paused rules are not evaluated, but their state is kept so resuming continues where it stopped. */
  status: RuleStatus;
  /** All must pass (AND) for the rule to consider the event at all; a filtered-out event never touches rule state. */
  filters?: FieldFilter[];
  /**
   * Default 0 = no cooldown. With `cooldownMs > 0`, after an alert for (rule, groupKey) at event time T the rule is
   * silent for that key for every event with eventTime < T + cooldownMs (late events timestamped before T included).
   */
  cooldownMs?: number;
  /**
   * Runtime only, never part of the rule JSON ({@link validateRule} rejects it): set by whoever loads the rule
   * from the tenant that owns it. Absent = a global rule, evaluated for every tenant's events; present = a
   * tenant rule, evaluated only for events whose `tenantId` equals it (other events never touch its state).
   */
  tenantId?: string;
}

/** Fires when `field op value` holds for the event. Grouped by tenantId + accountId (ACCOUNT_GROUP). */
export interface ThresholdRule extends RuleBase {
  type: 'threshold';
  params: { field: string; op: Comparison; value: RuleScalar };
}

/** Fires when the aggregation over the key's events with eventTime in (t - windowMs, t] satisfies `op limit`. */
export interface AggregateRule extends RuleBase {
  type: 'aggregate';
  params: {
    groupBy: string[];
    aggregation: RuleAggregation;
    /** Required except for `count` (where it restricts counting to events that have the field). */
    field?: string;
    windowMs: number;
    op: Comparison;
    limit: number;
  };
}

/** Fires when an account "moves" faster than maxKmh over at least minKm between consecutive located events. */
export interface ImpossibleTravelRule extends RuleBase {
  type: 'impossible-travel';
  params: { maxKmh: number; minKm: number };
}

/** Fires when |x - mean| / std of the key's history (before this event) exceeds zScore, once minEvents are known. */
export interface AnomalyRule extends RuleBase {
  type: 'anomaly';
  params: { field?: string; zScore: number; minEvents: number; groupBy?: string[] };
}

/** Fires when an event matching `then` follows one matching `first` for the same key within withinMs. */
export interface SequenceRule extends RuleBase {
  type: 'sequence';
  params: { groupBy?: string[]; first: FieldFilter[]; then: FieldFilter[]; withinMs: number };
}

/** Fires when `value.blocklistHits` contains a hit of one of the kinds. Grouped by tenantId + accountId (ACCOUNT_GROUP). */
export interface ListRule extends RuleBase {
  type: 'list';
  params: { kinds: BlocklistKind[] };
}

export type RuleDefinition = ThresholdRule | AggregateRule | ImpossibleTravelRule | AnomalyRule | SequenceRule | ListRule;
export type RuleType = RuleDefinition['type'];

export interface RuleValidationError {
  /** JSONPath-like location of the problem: `$`, `$.params.windowMs`, `$.filters[0].op`. */
  path: string;
  message: string;
}
export type RuleValidationResult = { ok: true; rule: RuleDefinition } | { ok: false; errors: RuleValidationError[] };

export const RULE_TYPES: readonly RuleType[] = ['threshold', 'aggregate', 'impossible-travel', 'anomaly', 'sequence', 'list'];
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];
export const COMPARISONS: readonly Comparison[] = ['>', '>=', '<', '<=', '==', '!='];
export const FILTER_OPS: readonly FieldFilterOp[] = [...COMPARISONS, 'in', 'notIn', 'exists'];
export const RULE_AGGREGATIONS: readonly RuleAggregation[] = ['count', 'sum', 'avg', 'min', 'max', 'countDistinct'];
export const BLOCKLIST_KINDS: readonly BlocklistKind[] = ['merchant', 'card', 'device', 'ip', 'country'];

export const RULE_ID_PATTERN = /^[a-z0-9][a-z0-9\-_.]{0,63}$/;
/** Dot path segments: letters, digits, `_`, `$`, `-`; array elements by index (`blocklistHits.0.kind`). */
const FIELD_PATH_PATTERN = /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/;
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);
const MAX_FIELD_PATH_LENGTH = 256;
const MAX_FILTERS = 50;
const MAX_LIST_VALUES = 1000;
const MAX_GROUP_BY = 5;
const MAX_NAME_LENGTH = 200;
const MAX_DESCRIPTION_LENGTH = 2000;
/** One year: longer lookbacks are almost certainly a unit mistake (seconds vs ms the other way round). */
export const MAX_RULE_DURATION_MS = 366 * 24 * 60 * 60 * 1000;

const BASE_KEYS = ['id', 'version', 'name', 'description', 'severity', 'status', 'filters', 'cooldownMs', 'type', 'params'];
const PARAM_KEYS: Record<RuleType, readonly string[]> = {
  threshold: ['field', 'op', 'value'],
  aggregate: ['groupBy', 'aggregation', 'field', 'windowMs', 'op', 'limit'],
  'impossible-travel': ['maxKmh', 'minKm'],
  anomaly: ['field', 'zScore', 'minEvents', 'groupBy'],
  sequence: ['groupBy', 'first', 'then', 'withinMs'],
  list: ['kinds'],
};

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function isScalar(x: unknown): x is RuleScalar {
  return typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x));
}

/** True for a syntactically valid field path (see {@link FieldFilter}). */
export function isFieldPath(x: unknown): x is string {
  return (
    typeof x === 'string' &&
    x.length <= MAX_FIELD_PATH_LENGTH &&
    FIELD_PATH_PATTERN.test(x) &&
    !x.split('.').some((segment) => FORBIDDEN_SEGMENTS.has(segment))
  );
}

const isOrdering = (op: Comparison): boolean => op !== '==' && op !== '!=';

/** Collects problems instead of stopping at the first, so an API caller sees everything wrong at once. */
class Checker {
  readonly errors: RuleValidationError[] = [];

  fail(path: string, message: string): undefined {
    this.errors.push({ path, message });
    return undefined;
  }

  noUnknownKeys(obj: Json, allowed: readonly string[], path: string): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.fail(`${path}.${key}`, `unknown field "${key}"`);
    }
  }

  oneOf<T extends string>(x: unknown, allowed: readonly T[], path: string): T | undefined {
    if (typeof x === 'string' && (allowed as readonly string[]).includes(x)) return x as T;
    return this.fail(path, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  }

  integer(x: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    if (typeof x !== 'number' || !Number.isSafeInteger(x)) return this.fail(path, 'must be an integer');
    if (x < min || x > max) return this.fail(path, `must be between ${min} and ${max}`);
    return x;
  }

  finite(x: unknown, path: string, check?: { min?: number; exclusiveMin?: number }): number | undefined {
    if (typeof x !== 'number' || !Number.isFinite(x)) return this.fail(path, 'must be a finite number');
    if (check?.min !== undefined && x < check.min) return this.fail(path, `must be >= ${check.min}`);
    if (check?.exclusiveMin !== undefined && x <= check.exclusiveMin) return this.fail(path, `must be > ${check.exclusiveMin}`);
    return x;
  }

  string(x: unknown, path: string, maxLength: number): string | undefined {
    if (typeof x !== 'string' || x.trim() === '') return this.fail(path, 'must be a non-empty string');
    if (x.length > maxLength) return this.fail(path, `must be at most ${maxLength} characters`);
    return x;
  }

  fieldPath(x: unknown, path: string): string | undefined {
    if (isFieldPath(x)) return x;
    return this.fail(path, 'must be a dot path into the event such as "amountUsd" or "merchant.riskScore"');
  }

  groupBy(x: unknown, path: string): string[] | undefined {
    // `tenantId` is not counted: services prepend it to every groupBy (see tenantScopedRule).
    if (!Array.isArray(x) || x.length === 0 || x.filter((f) => f !== TENANT_FIELD).length > MAX_GROUP_BY) {
      return this.fail(path, `must be an array of 1 to ${MAX_GROUP_BY} field paths (besides ${TENANT_FIELD})`);
    }
    const out = x.map((f, i) => this.fieldPath(f, `${path}[${i}]`));
    if (new Set(x).size !== x.length) this.fail(path, 'must not repeat a field');
    return out.every((f): f is string => f !== undefined) ? out : undefined;
  }

  comparisonValue(x: unknown, op: Comparison | undefined, path: string): RuleScalar | undefined {
    if (!isScalar(x)) return this.fail(path, 'must be a finite number, a string or a boolean');
    if (op !== undefined && isOrdering(op) && typeof x === 'boolean') {
      return this.fail(path, `operator "${op}" needs a number or a string`);
    }
    return x;
  }

  filter(x: unknown, path: string): FieldFilter | undefined {
    if (!isObject(x)) return this.fail(path, 'must be an object {field, op, value}');
    this.noUnknownKeys(x, ['field', 'op', 'value'], path);
    const field = this.fieldPath(x.field, `${path}.field`);
    const op = this.oneOf(x.op, FILTER_OPS, `${path}.op`);
    if (op === undefined) return undefined;
    let value: unknown;
    let valueOk = true;
    if (op === 'exists') {
      if (x.value !== undefined && typeof x.value !== 'boolean') valueOk = !!this.fail(`${path}.value`, 'must be a boolean when present');
      value = x.value;
    } else if (op === 'in' || op === 'notIn') {
      if (!Array.isArray(x.value) || x.value.length === 0 || x.value.length > MAX_LIST_VALUES) {
        valueOk = !!this.fail(`${path}.value`, `must be an array of 1 to ${MAX_LIST_VALUES} values`);
      } else {
        const bad = x.value.findIndex((v) => !isScalar(v));
        if (bad >= 0) valueOk = !!this.fail(`${path}.value[${bad}]`, 'must be a finite number, a string or a boolean');
        value = [...x.value];
      }
    } else {
      value = this.comparisonValue(x.value, op, `${path}.value`);
      valueOk = value !== undefined;
    }
    if (field === undefined || !valueOk) return undefined;
    return value === undefined ? { field, op } : { field, op, value };
  }

  filters(x: unknown, path: string, nonEmpty: boolean): FieldFilter[] | undefined {
    if (!Array.isArray(x) || (nonEmpty && x.length === 0) || x.length > MAX_FILTERS) {
      return this.fail(path, `must be an array of ${nonEmpty ? 1 : 0} to ${MAX_FILTERS} filters`);
    }
    const out = x.map((f, i) => this.filter(f, `${path}[${i}]`));
    return out.every((f): f is FieldFilter => f !== undefined) ? out : undefined;
  }
}

function validateParams(c: Checker, type: RuleType, raw: unknown): RuleDefinition['params'] | undefined {
  const path = '$.params';
  if (!isObject(raw)) return c.fail(path, 'must be an object');
  c.noUnknownKeys(raw, PARAM_KEYS[type], path);
  const before = c.errors.length;
  let params: RuleDefinition['params'] | undefined;
  switch (type) {
    case 'threshold': {
      const op = c.oneOf(raw.op, COMPARISONS, `${path}.op`);
      params = {
        field: c.fieldPath(raw.field, `${path}.field`)!,
        op: op!,
        value: c.comparisonValue(raw.value, op, `${path}.value`)!,
      };
      break;
    }
    case 'aggregate': {
      const aggregation = c.oneOf(raw.aggregation, RULE_AGGREGATIONS, `${path}.aggregation`);
      let field: string | undefined;
      if (raw.field !== undefined) field = c.fieldPath(raw.field, `${path}.field`);
      else if (aggregation !== undefined && aggregation !== 'count') c.fail(`${path}.field`, `is required for "${aggregation}"`);
      params = {
        groupBy: c.groupBy(raw.groupBy, `${path}.groupBy`)!,
        aggregation: aggregation!,
        ...(field === undefined ? {} : { field }),
        windowMs: c.integer(raw.windowMs, `${path}.windowMs`, 1, MAX_RULE_DURATION_MS)!,
        op: c.oneOf(raw.op, COMPARISONS, `${path}.op`)!,
        limit: c.finite(raw.limit, `${path}.limit`)!,
      };
      break;
    }
    case 'impossible-travel':
      params = {
        maxKmh: c.finite(raw.maxKmh, `${path}.maxKmh`, { exclusiveMin: 0 })!,
        minKm: c.finite(raw.minKm, `${path}.minKm`, { min: 0 })!,
      };
      break;
    case 'anomaly':
      params = {
        ...(raw.field === undefined ? {} : { field: c.fieldPath(raw.field, `${path}.field`)! }),
        zScore: c.finite(raw.zScore, `${path}.zScore`, { exclusiveMin: 0 })!,
        minEvents: c.integer(raw.minEvents, `${path}.minEvents`, 1)!,
        ...(raw.groupBy === undefined ? {} : { groupBy: c.groupBy(raw.groupBy, `${path}.groupBy`)! }),
      };
      break;
    case 'sequence':
      params = {
        ...(raw.groupBy === undefined ? {} : { groupBy: c.groupBy(raw.groupBy, `${path}.groupBy`)! }),
        first: c.filters(raw.first, `${path}.first`, true)!,
        then: c.filters(raw.then, `${path}.then`, true)!,
        withinMs: c.integer(raw.withinMs, `${path}.withinMs`, 0, MAX_RULE_DURATION_MS)!,
      };
      break;
    case 'list': {
      const kinds = raw.kinds;
      if (!Array.isArray(kinds) || kinds.length === 0) {
        c.fail(`${path}.kinds`, `must be a non-empty array of ${BLOCKLIST_KINDS.map((k) => `"${k}"`).join(', ')}`);
        break;
      }
      const out = kinds.map((k, i) => c.oneOf(k, BLOCKLIST_KINDS, `${path}.kinds[${i}]`));
      if (new Set(kinds).size !== kinds.length) c.fail(`${path}.kinds`, 'must not repeat a kind');
      params = { kinds: out as BlocklistKind[] };
      break;
    }
  }
  // The `!` above are safe only because any undefined part recorded an error; never return a half-built object.
  return c.errors.length === before ? params : undefined;
}

/**
 * Validates untrusted JSON into a {@link RuleDefinition}. Never throws for bad input: returns every problem
 * found, each with a JSONPath-like `path` (`$.params.windowMs`, `$.filters[1].op`). Unknown fields are rejected
 * at the top level, in `params` and in filters, so typos ("windowMS") cannot silently fall back to defaults.
 * On success `rule` is a fresh copy holding only known fields (defaults are not filled in).
 */
export function validateRule(input: unknown): RuleValidationResult {
  const c = new Checker();
  try {
    if (!isObject(input)) {
      c.fail('$', 'must be a JSON object');
      return { ok: false, errors: c.errors };
    }
    c.noUnknownKeys(input, BASE_KEYS, '$');
    const id = typeof input.id === 'string' && RULE_ID_PATTERN.test(input.id)
      ? input.id
      : c.fail('$.id', 'must match [a-z0-9][a-z0-9-_.]{0,63}');
    const version = c.integer(input.version, '$.version', 1);
    const name = c.string(input.name, '$.name', MAX_NAME_LENGTH);
    const description = input.description === undefined ? undefined : c.string(input.description, '$.description', MAX_DESCRIPTION_LENGTH);
    const severity = c.oneOf(input.severity, SEVERITIES, '$.severity');
    const status = c.oneOf(input.status, ['active', 'paused'] as const, '$.status');
    const filters = input.filters === undefined ? undefined : c.filters(input.filters, '$.filters', false);
    const cooldownMs = input.cooldownMs === undefined ? undefined : c.integer(input.cooldownMs, '$.cooldownMs', 0, MAX_RULE_DURATION_MS);
    const type = c.oneOf(input.type, RULE_TYPES, '$.type');
    // Params can only be checked against a known type; an unknown type is reported once, at $.type.
    const params = type === undefined ? undefined : validateParams(c, type, input.params);
    if (c.errors.length > 0) return { ok: false, errors: c.errors };
    const rule = {
      id: id!,
      version: version!,
      name: name!,
      ...(description === undefined ? {} : { description }),
      severity: severity!,
      status: status!,
      ...(filters === undefined ? {} : { filters }),
      ...(cooldownMs === undefined ? {} : { cooldownMs }),
      type: type!,
      params: params!,
    } as RuleDefinition;
    return { ok: true, rule };
  } catch (err) {
    // Only exotic inputs (throwing getters, proxies) get here; JSON.parse output never does.
    c.fail('$', `unreadable input: ${err instanceof Error ? err.message : String(err)}`);
    return { ok: false, errors: c.errors };
  }
}
