// Test-only helpers (under test/, so the build's swc config skips this folder).
import { RuleEngine, type AlertCandidate, type RuleEngineOptions } from '../rule-engine';
import type {
  AggregateRule,
  AnomalyRule,
  ImpossibleTravelRule,
  ListRule,
  RuleBase,
  RuleDefinition,
  RuleEvent,
  SequenceRule,
  ThresholdRule,
} from '../rule-definition';
import { InMemoryRuleStateStore } from '../rule-state-store';

/** Tenant of {@link ev} events unless a test names another. */
export const TENANT = 'acme';

export function ev(eventId: string, eventTime: number, value: Record<string, unknown> = {}, accountId = 'acc-1', tenantId = TENANT): RuleEvent {
  return { eventId, eventTime, tenantId, accountId, value };
}

type Extra = Partial<Omit<RuleBase, 'params'>>;
const base = (id: string, extra: Extra = {}) => ({ id, version: 1, name: id, severity: 'high' as const, status: 'active' as const, ...extra });

export const thresholdRule = (params: ThresholdRule['params'], extra?: Extra): ThresholdRule => ({
  ...base('thr', extra),
  type: 'threshold',
  params,
});
export const aggregateRule = (params: Partial<AggregateRule['params']>, extra?: Extra): AggregateRule => ({
  ...base('agg', extra),
  type: 'aggregate',
  params: { groupBy: ['accountId'], aggregation: 'count', windowMs: 60_000, op: '>', limit: 4, ...params },
});
export const travelRule = (params: Partial<ImpossibleTravelRule['params']> = {}, extra?: Extra): ImpossibleTravelRule => ({
  ...base('travel', extra),
  type: 'impossible-travel',
  params: { maxKmh: 900, minKm: 100, ...params },
});
export const anomalyRule = (params: Partial<AnomalyRule['params']> = {}, extra?: Extra): AnomalyRule => ({
  ...base('anom', extra),
  type: 'anomaly',
  params: { zScore: 3, minEvents: 5, ...params },
});
export const sequenceRule = (params: Partial<SequenceRule['params']> = {}, extra?: Extra): SequenceRule => ({
  ...base('seq', extra),
  type: 'sequence',
  params: {
    first: [{ field: 'amountUsd', op: '<', value: 1 }],
    then: [{ field: 'amountUsd', op: '>', value: 500 }],
    withinMs: 60_000,
    ...params,
  },
});
export const listRule = (params: Partial<ListRule['params']> = {}, extra?: Extra): ListRule => ({
  ...base('list', extra),
  type: 'list',
  params: { kinds: ['card', 'ip'], ...params },
});

export function setup(rules: RuleDefinition[], options?: RuleEngineOptions) {
  const store = new InMemoryRuleStateStore();
  const engine = new RuleEngine(store, options);
  engine.setRules(rules);
  return { store, engine };
}

/** The triggering event id of each alert, in order: the most readable assertion for "which events fired". */
export const triggers = (alerts: AlertCandidate[]): string[] => alerts.map((a) => a.eventIds[a.eventIds.length - 1]);

/** Runs events one by one and returns the ids of those that produced at least one alert. */
export function firingEvents(engine: RuleEngine, events: RuleEvent[]): string[] {
  return events.filter((e) => engine.evaluate(e).length > 0).map((e) => e.eventId);
}

/** JSON round trip of every stored value: what a Postgres JSONB snapshot/restore does. */
export function snapshot(store: InMemoryRuleStateStore): Array<[string, unknown]> {
  return JSON.parse(JSON.stringify(store.entries())) as Array<[string, unknown]>;
}
