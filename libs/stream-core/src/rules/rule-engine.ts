import { evaluateAggregateRule } from './aggregate.rule';
import { computeAlertId } from './alert-id';
import { evaluateAnomalyRule } from './anomaly.rule';
import { matchesAll } from './filters';
import { evaluateImpossibleTravelRule } from './impossible-travel.rule';
import { evaluateListRule } from './list.rule';
import type { RuleContext, RuleFiring, StoredRecord } from './rule-context';
import { validateRule, type RuleDefinition, type RuleEvent, type Severity } from './rule-definition';
import { ruleKey } from './rule-key';
import type { RuleStateStore } from './rule-state-store';
import { evaluateSequenceRule } from './sequence.rule';
import { evaluateThresholdRule } from './threshold.rule';

/** What the alert service receives for each rule that fired. JSON-serialisable. */
export interface AlertCandidate {
  /**
   * See {@link computeAlertId}: sha256 of [ruleKey, ruleVersion, groupKey, triggering eventId], 32 hex chars, where
   * the {@link ruleKey} is the rule id for a global rule and `<id>@<tenant>` for a tenant rule.
   */
  alertId: string;
  /** The rule's id as the API shows it (unique per owner only: see ruleTenantId). */
  ruleId: string;
  /**
   * The owner of the rule that fired: absent for a global rule; for a tenant rule its tenant (which is then also
   * the event's). With ruleId it identifies the rule (e.g. for per-rule metrics: `ruleKey({ id: ruleId, tenantId: ruleTenantId })`).
   */
  ruleTenantId?: string;
  ruleVersion: number;
  ruleType: RuleDefinition['type'];
  severity: Severity;
  /** The triggering event's tenant. */
  tenantId: string;
  accountId: string;
  /** `field=value` pairs joined by `|`, e.g. `tenantId=acme|accountId=acc-1`. */
  groupKey: string;
  /** The events involved, triggering event last (aggregate: the window, capped to maxEventIdsPerAlert). */
  eventIds: string[];
  /** Event time of the triggering event. */
  occurredAt: number;
  explanation: {
    summary: string;
    /** A copy of the rule's params. */
    params: Record<string, unknown>;
    /** The values that crossed the limit. */
    observed: Record<string, unknown>;
  };
}

export interface RuleEngineOptions {
  /** Cap on AlertCandidate.eventIds (most recent kept, triggering event last). Default 100. */
  maxEventIdsPerAlert?: number;
  /**
   * State of a (rule, key) untouched for this long in event time — relative to the max event time the engine
   * has seen — is treated as absent and swept. Default 30 days; `Infinity` disables. Keep it above every
   * windowMs, withinMs and cooldownMs, and above the lateness you want to tolerate; note that an anomaly
   * history is forgotten after this much account inactivity.
   */
  stateRetentionMs?: number;
  /** Cap on per-key buffers (aggregate entries, pending sequence firsts). Default 10 000. */
  maxBufferedEventsPerKey?: number;
}

export const DEFAULT_MAX_EVENT_IDS_PER_ALERT = 100;
export const DEFAULT_STATE_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_BUFFERED_EVENTS_PER_KEY = 10_000;

/** The engine's own record: `w` = max event time seen (the retention reference), `s` = event time of the last sweep. */
export const ENGINE_META_KEY = '_engine:meta';
interface EngineMeta {
  w: number;
  s: number;
}

/** Sweeping scans every key, so it runs at most once per this much event time (or per retention, if shorter). */
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function assertEvent(event: RuleEvent): void {
  const problems: string[] = [];
  if (typeof event !== 'object' || event === null) throw new TypeError('RuleEvent must be an object');
  if (typeof event.eventId !== 'string' || event.eventId === '') problems.push('eventId must be a non-empty string');
  if (typeof event.eventTime !== 'number' || !Number.isFinite(event.eventTime)) problems.push('eventTime must be a finite number (epoch ms)');
  if (typeof event.tenantId !== 'string' || event.tenantId === '') problems.push('tenantId must be a non-empty string');
  if (typeof event.accountId !== 'string' || event.accountId === '') problems.push('accountId must be a non-empty string');
  if (typeof event.value !== 'object' || event.value === null || Array.isArray(event.value)) problems.push('value must be an object');
  if (problems.length > 0) throw new TypeError(`invalid RuleEvent ${JSON.stringify(event.eventId)}: ${problems.join('; ')}`);
}

/** Splits the runtime `tenantId` off a rule: the rest is the rule JSON that validateRule checks. */
function splitTenant(rule: RuleDefinition): { definition: unknown; tenantId: unknown } {
  if (typeof rule !== 'object' || rule === null) return { definition: rule, tenantId: undefined };
  const { tenantId, ...definition } = rule;
  return { definition, tenantId };
}

/** Ascending id; for equal ids the global rule first, then tenant rules by tenant. */
function byIdThenOwner(a: RuleDefinition, b: RuleDefinition): number {
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  if (a.tenantId === b.tenantId) return 0;
  if (a.tenantId === undefined) return -1;
  if (b.tenantId === undefined) return 1;
  return a.tenantId < b.tenantId ? -1 : 1;
}

/** A global rule (no `tenantId`) applies to every tenant's events; a tenant rule only to its own tenant's. */
export function appliesToTenant(rule: Pick<RuleDefinition, 'tenantId'>, tenantId: string): boolean {
  return rule.tenantId === undefined || rule.tenantId === tenantId;
}

/**
 * Evaluates fraud rules against enriched events. Framework-free and deterministic: the output depends only on
 * the rules, the options, the store contents and the events in processing order — never on the wall clock.
 * All state lives in the {@link RuleStateStore}, so a store restored from a snapshot (JSON round trip) continues
 * exactly like an uninterrupted engine given the same rules and options.
 */
export class RuleEngine {
  private active: RuleDefinition[] = [];
  private all: RuleDefinition[] = [];
  private readonly maxEventIdsPerAlert: number;
  private readonly maxBufferedEventsPerKey: number;
  private readonly retentionMs: number;
  private readonly ctx: RuleContext;
  /** Max event time seen; cached from the store's meta record, which is the source of truth. */
  private watermark: number | undefined;

  constructor(
    private readonly store: RuleStateStore,
    options: RuleEngineOptions = {},
  ) {
    this.maxEventIdsPerAlert = positiveInteger('maxEventIdsPerAlert', options.maxEventIdsPerAlert, DEFAULT_MAX_EVENT_IDS_PER_ALERT);
    this.maxBufferedEventsPerKey = positiveInteger('maxBufferedEventsPerKey', options.maxBufferedEventsPerKey, DEFAULT_MAX_BUFFERED_EVENTS_PER_KEY);
    const retention = options.stateRetentionMs ?? DEFAULT_STATE_RETENTION_MS;
    if (!(retention > 0)) throw new RangeError(`stateRetentionMs must be > 0 (Infinity disables), got ${retention}`);
    this.retentionMs = retention;
    this.watermark = store.get<EngineMeta>(ENGINE_META_KEY)?.w;
    this.ctx = {
      maxBufferedEventsPerKey: this.maxBufferedEventsPerKey,
      maxEventIdsPerAlert: this.maxEventIdsPerAlert,
      stateKey: (rule, groupKey, kind) => `${ruleKey(rule)}:${rule.version}:${groupKey}:${kind}`,
      read: <T extends StoredRecord>(key: string) => this.read<T>(key),
      write: (key, record) => this.store.put(key, record),
    };
  }

  /**
   * Replaces the rule set (hot reload). Every rule is re-validated and copied; an invalid rule or two rules with the
   * same {@link ruleKey} (id and owner) throw (callers are expected to have validated with {@link validateRule}) and
   * leave the previous set in place.
   * - A rule's runtime `tenantId` (not part of the rule JSON) is kept: such a tenant rule only sees events of
   *   that tenant; a rule without one is global. Ids are unique per owner: tenants `acme` and `globex` may both have
   *   `velocity`, and even a global `velocity` next to them is kept apart (everything is keyed by ruleKey).
   * - `paused` rules are skipped by `evaluate` but keep their state, so resuming continues where they stopped.
   * - State is keyed by rule key AND version: a rule whose version changed starts with fresh state.
   * - State of removed rules and of superseded versions is deleted eagerly, here (one scan of the store's keys).
   */
  setRules(rules: RuleDefinition[]): void {
    const validated: RuleDefinition[] = [];
    const keys = new Set<string>();
    for (const [i, rule] of rules.entries()) {
      const { definition, tenantId } = splitTenant(rule);
      const result = validateRule(definition);
      const problems = result.ok ? [] : result.errors.map((e) => `${e.path} ${e.message}`);
      const validTenant = tenantId === undefined || (typeof tenantId === 'string' && tenantId !== '');
      if (!validTenant) problems.push('$.tenantId must be a non-empty string when present');
      if (!result.ok || !validTenant) {
        throw new TypeError(`invalid rule at index ${i} (${JSON.stringify((rule as { id?: unknown })?.id)}): ${problems.join('; ')}`);
      }
      const copy = tenantId === undefined ? result.rule : { ...result.rule, tenantId: tenantId as string };
      const key = ruleKey(copy);
      if (keys.has(key)) throw new TypeError(`duplicate rule id "${copy.id}"${tenantId === undefined ? '' : ` for tenant ${JSON.stringify(tenantId)}`}`);
      keys.add(key);
      validated.push(copy);
    }
    validated.sort(byIdThenOwner);
    this.all = validated;
    this.active = validated.filter((r) => r.status === 'active');

    const live = new Set(validated.map((r) => `${ruleKey(r)}:${r.version}:`));
    for (const key of [...this.store.keys()]) {
      if (key.startsWith('_')) continue; // engine-owned records
      const [rule, version] = key.split(':', 2);
      if (!live.has(`${rule}:${version}:`)) this.store.delete(key);
    }
  }

  /** The current (validated, sorted like {@link evaluate} runs them) rules, active and paused. */
  getRules(): RuleDefinition[] {
    return structuredClone(this.all);
  }

  /**
   * Evaluates every active rule against one event, in ascending rule id order (for equal ids: the global rule
   * first, then tenant rules by tenant), and returns the alerts (at most one per rule). Tenant rules of another
   * tenant, and rules whose filters reject the event, do not see it.
   * Throws a TypeError, before touching any state, when the event itself is malformed (empty ids or tenant,
   * non-finite eventTime, value not an object).
   */
  evaluate(event: RuleEvent): AlertCandidate[] {
    assertEvent(event);
    this.advanceWatermark(event.eventTime);
    const alerts: AlertCandidate[] = [];
    for (const rule of this.active) {
      if (!appliesToTenant(rule, event.tenantId) || !matchesAll(event, rule.filters)) continue;
      const firing = this.dispatch(rule, event);
      if (firing === undefined || this.coolingDown(rule, firing.groupKey, event.eventTime)) continue;
      alerts.push({
        alertId: computeAlertId(ruleKey(rule), rule.version, firing.groupKey, event.eventId),
        ruleId: rule.id,
        ...(rule.tenantId === undefined ? {} : { ruleTenantId: rule.tenantId }),
        ruleVersion: rule.version,
        ruleType: rule.type,
        severity: rule.severity,
        tenantId: event.tenantId,
        accountId: event.accountId,
        groupKey: firing.groupKey,
        eventIds: firing.eventIds,
        occurredAt: event.eventTime,
        explanation: {
          summary: firing.summary,
          params: structuredClone(rule.params) as Record<string, unknown>,
          observed: firing.observed,
        },
      });
    }
    this.maybeSweep();
    return alerts;
  }

  /** Evaluates the events in the given order (processing order, not re-sorted by event time). */
  evaluateBatch(events: RuleEvent[]): AlertCandidate[] {
    const alerts: AlertCandidate[] = [];
    for (const event of events) alerts.push(...this.evaluate(event));
    return alerts;
  }

  private dispatch(rule: RuleDefinition, event: RuleEvent): RuleFiring | undefined {
    switch (rule.type) {
      case 'threshold':
        return evaluateThresholdRule(rule, event);
      case 'aggregate':
        return evaluateAggregateRule(rule, event, this.ctx);
      case 'impossible-travel':
        return evaluateImpossibleTravelRule(rule, event, this.ctx);
      case 'anomaly':
        return evaluateAnomalyRule(rule, event, this.ctx);
      case 'sequence':
        return evaluateSequenceRule(rule, event, this.ctx);
      case 'list':
        return evaluateListRule(rule, event);
    }
  }

  /**
   * Cooldown per (rule key, version, groupKey), in event time. cooldownMs 0 disables it. Otherwise, after an alert
   * at T, events with eventTime < T + cooldownMs are suppressed (late ones before T too); the first qualifying
   * event at or after T + cooldownMs alerts and restarts the cooldown.
   */
  private coolingDown(rule: RuleDefinition, groupKey: string, eventTime: number): boolean {
    const cooldownMs = rule.cooldownMs ?? 0;
    if (cooldownMs === 0) return false;
    const key = this.ctx.stateKey(rule, groupKey, 'cooldown');
    const last = this.read<StoredRecord>(key);
    if (last !== undefined && eventTime < last.t + cooldownMs) return true;
    this.store.put(key, { t: eventTime } satisfies StoredRecord);
    return false;
  }

  private read<T extends StoredRecord>(key: string): T | undefined {
    const record = this.store.get<T>(key);
    if (record === undefined) return undefined;
    // Expiry is decided on read, so output does not depend on when the sweep happened to run.
    if (this.isExpired(record)) {
      this.store.delete(key);
      return undefined;
    }
    return record;
  }

  private isExpired(record: StoredRecord): boolean {
    return this.watermark !== undefined && record.t <= this.watermark - this.retentionMs;
  }

  private advanceWatermark(eventTime: number): void {
    if (this.watermark !== undefined && eventTime <= this.watermark) return;
    const meta = this.store.get<EngineMeta>(ENGINE_META_KEY);
    this.watermark = eventTime;
    this.store.put(ENGINE_META_KEY, { w: eventTime, s: meta?.s ?? eventTime } satisfies EngineMeta);
  }

  /** Deletes expired records so idle accounts do not accumulate; runs on event-time progress only. */
  private maybeSweep(): void {
    if (!Number.isFinite(this.retentionMs) || this.watermark === undefined) return;
    const meta = this.store.get<EngineMeta>(ENGINE_META_KEY);
    const interval = Math.min(SWEEP_INTERVAL_MS, this.retentionMs);
    if (meta === undefined || this.watermark - meta.s < interval) return;
    for (const key of [...this.store.keys()]) {
      if (key.startsWith('_')) continue;
      const record = this.store.get<StoredRecord>(key);
      if (record !== undefined && this.isExpired(record)) this.store.delete(key);
    }
    this.store.put(ENGINE_META_KEY, { w: this.watermark, s: this.watermark } satisfies EngineMeta);
  }
}
