/**
 * Adapter between the stage and the framework-free rule engine of one input partition: decodes enriched
 * events, evaluates every active rule, and writes the alerts that are new (by deterministic alertId) to
 * Postgres and, through the outbox, to the `alerts` topic.
 */
import {
  AlertMessage, Clock, Counter, decodeBatch, InboundRecord, OutboundRecord, parseEnrichedEventMessage,
  PartitionProcessor, ProcessingError, StageOutput, StateChanges,
} from '@streamguard/common';
import { AlertCandidate, InMemoryRuleStateStore, RuleEngine, ruleKey } from '@streamguard/stream-core';
import type { AlertsRepository } from '../alerts/alerts.repository';
import type { RuleSet } from '../rules/rule-set';

export class RulePartitionProcessor implements PartitionProcessor {
  private readonly store: InMemoryRuleStateStore;
  private readonly engine: RuleEngine;
  private generation = -1;

  constructor(
    state: Array<[string, unknown]>,
    private readonly ruleSet: RuleSet,
    private readonly alertsTopic: string,
    private readonly repository: AlertsRepository,
    private readonly alertsTotal: Counter,
    private readonly clock: Clock,
  ) {
    this.store = new InMemoryRuleStateStore(state);
    this.engine = new RuleEngine(this.store);
    this.applyRules();
  }

  process(records: InboundRecord[]): StageOutput {
    this.applyRules();
    const { decoded, rejected } = decodeBatch(records, parseEnrichedEventMessage);
    const candidates: AlertCandidate[] = [];
    for (const { record, value: event } of decoded) {
      try {
        candidates.push(...this.engine.evaluate({
          eventId: event.eventId, eventTime: event.occurredAt, tenantId: event.tenantId, accountId: event.accountId,
          value: event as unknown as Record<string, unknown>,
        }));
      } catch (error) {
        // The engine throws only for events it cannot evaluate at all (before changing state): dead-letter
        // the record rather than retry a batch that can never succeed.
        rejected.push({ offset: record.offset, error: new ProcessingError('HANDLER_ERROR', (error as Error).message, false) });
      }
    }
    return { ...this.output(candidates, rejected), receivedAt: decoded.map((d) => d.value.receivedAt) };
  }

  /** Applies rule changes on idle partitions too (their state for removed rules is dropped). */
  onTimer(): StageOutput | undefined {
    if (this.generation === this.ruleSet.generation) return undefined;
    this.applyRules();
    return { outbox: [] };
  }

  takeStateChanges(): StateChanges {
    return this.store.takeChanges();
  }


  private applyRules(): void {
    if (this.generation === this.ruleSet.generation) return;
    this.engine.setRules(this.ruleSet.current());
    this.generation = this.ruleSet.generation;
  }

  private output(candidates: AlertCandidate[], rejected: Array<{ offset: string; error: Error }>): StageOutput {
    if (candidates.length === 0) return { outbox: [], rejected };
    const detectedAt = this.clock.now();
    // One candidate per alertId: a batch can hold the same event more than once (a client retried a request
    // whose answer it never got, so ingest wrote it twice), and each copy yields the same deterministic alertId.
    // Postgres stores it once; without this, every copy was also published.
    const unique = [...new Map(candidates.map((c) => [c.alertId, c])).values()];
    // The alert reports the rule's API id; the metric label is the rule key, because two tenants' rules may share an id.
    const alerts = unique.map(({ ruleTenantId, ...c }): { message: AlertMessage; rule: string } => ({
      message: { schemaVersion: 1, ...c, detectedAt }, rule: ruleKey({ id: c.ruleId, tenantId: ruleTenantId }),
    }));
    return {
      outbox: [],
      rejected,
      write: async (tx): Promise<OutboundRecord[]> => {
        const inserted = await this.repository.insertNew(tx, alerts.map((a) => a.message));
        const fresh = alerts.filter((a) => inserted.has(a.message.alertId));
        for (const a of fresh) this.alertsTotal.inc({ rule: a.rule, severity: a.message.severity });
        return fresh.map(({ message }) => ({ topic: this.alertsTopic, key: message.accountId, value: JSON.stringify(message) }));
      },
    };
  }
}
