// Public surface of the event-time windowing engine. Semantics: see window-operator.ts and SEMANTICS.md.
export {
  parseWindowDefinitions,
  WindowDefinitionError,
  WINDOW_AGGREGATION_FNS,
  WINDOW_DEFINITION_NAME_PATTERN,
  WINDOW_TYPES,
  type AggregationFn,
  type AggregationSpec,
  type EmitMode,
  type WindowDefinition,
  type WindowSpec,
  type WindowType,
} from './window-definition';
export type { DrainedOutput, InvalidRecord, LateReason, LateRecord, TimedRecord, WindowResult } from './window-output';
export { PartitionWindowOperator, type WindowOperatorOptions, type WindowOperatorStats } from './window-operator';
export { InMemoryWindowStateStore, type WindowStateStore } from './window-state-store';
export { encodeGroupKey, fitsUtf8Bytes } from './record-fields';
export { windowInputChecker } from './window-input';
export {
  alignedStart,
  assignTimeWindows,
  cleanupTime,
  isWindowLate,
  type TimeWindow,
} from './window-assigner';
