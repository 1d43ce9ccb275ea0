import type { RuleDefinition } from './rule-definition';

/** Every stored record carries `t`: the latest event time that touched it (drives state retention). */
export interface StoredRecord {
  t: number;
}

/** What a rule evaluator may use; implemented by the engine. */
export interface RuleContext {
  /** Cap for per-key buffers (aggregate entries, pending sequence firsts). */
  readonly maxBufferedEventsPerKey: number;
  readonly maxEventIdsPerAlert: number;
  /** `${ruleKey}:${ruleVersion}:${groupKey}:${kind}` (see ruleKey in rule-key.ts: the id, or `<id>@<tenant>` for a tenant rule). */
  stateKey(rule: RuleDefinition, groupKey: string, kind: string): string;
  /** The stored record, or undefined when absent or expired by state retention. */
  read<T extends StoredRecord>(key: string): T | undefined;
  /** Stores a new record (never mutate one obtained from `read`). */
  write<T extends StoredRecord>(key: string, record: T): void;
}

/** A rule's verdict for one event, before cooldown; the engine turns it into an AlertCandidate. */
export interface RuleFiring {
  groupKey: string;
  /** Involved events, triggering event last. */
  eventIds: string[];
  summary: string;
  observed: Record<string, unknown>;
}
