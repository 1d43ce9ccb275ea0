// Public surface of the fraud rule engine (framework-free; see SEMANTICS.md).
export type {
  RuleAggregation,
  AggregateRule,
  AnomalyRule,
  BlocklistKind,
  Comparison,
  FieldFilter,
  FieldFilterOp,
  ImpossibleTravelRule,
  ListRule,
  RuleBase,
  RuleDefinition,
  RuleEvent,
  RuleStatus,
  RuleType,
  RuleValidationError,
  RuleValidationResult,
  RuleScalar,
  SequenceRule,
  Severity,
  ThresholdRule,
} from './rule-definition';
export { RULE_AGGREGATIONS, BLOCKLIST_KINDS, COMPARISONS, FILTER_OPS, MAX_RULE_DURATION_MS, RULE_TYPES, SEVERITIES, validateRule } from './rule-definition';
export { DEFAULT_RULES } from './default-rules';
export { computeAlertId } from './alert-id';
export { ruleKey } from './rule-key';
export { haversineKm, type LatLon } from './geo';
export type { BlocklistHit } from './list.rule';
export { InMemoryRuleStateStore, type RuleStateChanges, type RuleStateStore } from './rule-state-store';
export {
  DEFAULT_MAX_BUFFERED_EVENTS_PER_KEY,
  DEFAULT_MAX_EVENT_IDS_PER_ALERT,
  DEFAULT_STATE_RETENTION_MS,
  RuleEngine,
  appliesToTenant,
  type AlertCandidate,
  type RuleEngineOptions,
} from './rule-engine';
