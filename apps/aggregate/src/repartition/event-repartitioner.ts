/**
 * Stage 1 of a repartitioned window definition, as a pure function of one decoded `events.enriched` record:
 * one `events.repartition` record per repartitioned definition the event is valid for, keyed
 * `<definition>|<groupKey>`, the value byte for byte and the definition in a header (REPARTITION_HEADERS).
 *
 * Every record still has exactly one place to go when it cannot be windowed:
 * - undecodable, or invalid for a co-partitioned definition, or FUTURE_TS: the co-partitioned stage (group
 *   `<prefix>.aggregate`, which reads the same records) dead-letters / reports it as it always did, so this
 *   stage only counts it (`skipped`); when there is no co-partitioned stage, this stage does it instead;
 * - valid for every co-partitioned definition but invalid for a repartitioned one: dead-lettered here, once
 *   (reasons of every definition in the message), and still repartitioned for the definitions it is valid for.
 */
import {
  EnrichedEventMessage, InboundRecord, LateEventMessage, OutboundRecord, PoisonRecordError, REPARTITION_HEADERS, serializeLateReport, TopicNames,
} from '@streamguard/common';
import { WindowDefinition, windowInputChecker } from '@streamguard/stream-core';
import { repartitionKey } from './window-routing';

/** One `events.enriched` record, decoded or with the reason it could not be. */
export type EnrichedInput = { record: InboundRecord; event: EnrichedEventMessage } | { record: InboundRecord; error: Error };

export type SkipReason = 'undecodable' | 'invalid' | 'future_ts';

export interface RepartitionOutcome {
  outputs: OutboundRecord[];
  /** Dead-letter the input record with this error. */
  rejected?: Error;
  /** Left to the co-partitioned stage, which dead-letters or reports it. */
  skipped?: SkipReason;
}

export interface EventRepartitionerOptions {
  /** Tenant-scoped definitions that are shuffled. */
  repartitioned: WindowDefinition[];
  /** Tenant-scoped definitions the co-partitioned stage runs on the same input; empty when it does not run. */
  coPartitioned: WindowDefinition[];
  topics: Pick<TopicNames, 'repartition' | 'late'>;
  /** As the window operator's: a record further ahead of processing time is FUTURE_TS. */
  maxFutureSkewMs: number;
}

type Checker = { name: string; check: ReturnType<typeof windowInputChecker> };

export class EventRepartitioner {
  private readonly repartitioned: Checker[];
  private readonly coPartitioned: Checker[];

  constructor(private readonly options: EventRepartitionerOptions) {
    this.repartitioned = options.repartitioned.map((d) => ({ name: d.name, check: windowInputChecker(d) }));
    this.coPartitioned = options.coPartitioned.map((d) => ({ name: d.name, check: windowInputChecker(d) }));
  }

  /** True when the co-partitioned stage reads `events.enriched` too (and owns its DLQ / FUTURE_TS reports). */
  private get sharesInput(): boolean {
    return this.coPartitioned.length > 0;
  }

  /**
   * `now` is only the fallback for a record without a Kafka timestamp: FUTURE_TS is judged against the record's
   * timestamp, exactly as the co-partitioned stage judges the same record, so the two stages always agree.
   */
  route(input: EnrichedInput, now: number): RepartitionOutcome {
    if ('error' in input) return this.sharesInput ? { outputs: [], skipped: 'undecodable' } : { outputs: [], rejected: input.error };
    const { record, event } = input;
    const value = event as unknown as Record<string, unknown>;
    // Same order as the operator: a future record is reported as such, not checked further.
    if (event.occurredAt > observedAt(record, now) + this.options.maxFutureSkewMs) {
      return this.sharesInput ? { outputs: [], skipped: 'future_ts' } : { outputs: [this.futureTs(record, event)] };
    }
    const outputs: OutboundRecord[] = [];
    const problems: string[] = [];
    for (const { name, check } of this.repartitioned) {
      const group = check(value);
      if (!group.ok) {
        problems.push(`${name}: ${group.reason}`);
        continue;
      }
      outputs.push({
        topic: this.options.topics.repartition, key: repartitionKey(name, group.groupKey), value: record.value ?? Buffer.alloc(0),
        headers: {
          [REPARTITION_HEADERS.definition]: name, [REPARTITION_HEADERS.sourceTopic]: record.topic,
          [REPARTITION_HEADERS.sourcePartition]: String(record.partition), [REPARTITION_HEADERS.sourceOffset]: record.offset,
          [REPARTITION_HEADERS.sourceTimestamp]: String(observedAt(record, now)),
        },
      });
    }
    if (problems.length === 0) return { outputs };
    if (this.coPartitioned.some(({ check }) => !check(value).ok)) return { outputs, skipped: 'invalid' };
    return { outputs, rejected: new PoisonRecordError('INVALID_FOR_WINDOW', problems.join('; ')) };
  }

  private futureTs(record: InboundRecord, event: EnrichedEventMessage): OutboundRecord {
    const message: LateEventMessage = {
      schemaVersion: 1, reason: 'FUTURE_TS', definition: null, windowStart: null, windowEnd: null, watermark: null,
      eventId: event.eventId, eventTime: event.occurredAt, source: { topic: record.topic, partition: record.partition, offset: record.offset }, event,
    };
    return { topic: this.options.topics.late, key: record.key, value: serializeLateReport(message) };
  }
}

/** The record's Kafka timestamp (when the pipeline first saw it), or `fallback` for a record without one. */
export function observedAt(record: Pick<InboundRecord, 'timestamp'>, fallback: number): number {
  return Number.isFinite(record.timestamp) && record.timestamp > 0 ? record.timestamp : fallback;
}
