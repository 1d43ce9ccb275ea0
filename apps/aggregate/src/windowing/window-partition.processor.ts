/**
 * Adapter between the stage (Kafka records, Postgres transaction) and the framework-free window operator of
 * one input partition: decodes records once, feeds the operator, and turns what it drains into outputs.
 */
import {
  AggregateResultMessage, Clock, decodeBatch, EnrichedEventMessage, InboundRecord, LateEventMessage, LEGACY_TENANT, OutboundRecord,
  parseEnrichedEventMessage, PartitionProcessor, PoisonRecordError, ProcessingError, REPARTITION_HEADERS, serializeLateReport, StageOutput, StateChanges, TopicNames,
} from '@streamguard/common';
import {
  InMemoryWindowStateStore, PartitionWindowOperator, TENANT_FIELD, tenantDedupKey, WindowOperatorOptions, WindowResult, DrainedOutput,
} from '@streamguard/stream-core';
import type { WindowResultsRepository } from '../aggregates/window-results.repository';
import { observedAt } from '../repartition/event-repartitioner';
import { repartitionDedupKey, repartitionedDefinition } from '../repartition/window-routing';
import type { AggregateMetrics } from './aggregate-metrics';

/**
 * What the processor consumes: `events.enriched` (each record applies to every definition), or
 * `events.repartition` (each record applies to the one definition named in its header, deduplicated per
 * definition, and late reports name the original `events.enriched` record).
 */
export type WindowInputTopic = 'enriched' | 'repartition';

/**
 * Update-mode results of one batch, coalesced like Kafka Streams' record cache: of the `final: false` results
 * for one window, only the last (highest version) is published and stored; every `final: true` result is kept.
 * A window changed by 500 records of one batch costs one outbox row and one Kafka record, not 500; consumers
 * see versions increase with gaps (a version still counts changes) and always the latest values.
 */
export function latestUpdatesOnly(results: readonly WindowResult[]): WindowResult[] {
  const lastUpdate = new Map<string, number>();
  results.forEach((r, i) => {
    if (!r.final) lastUpdate.set(`${r.definition}\u0000${r.groupKey}\u0000${r.windowStart}\u0000${r.windowEnd}`, i);
  });
  return results.filter((r, i) => r.final || lastUpdate.get(`${r.definition}\u0000${r.groupKey}\u0000${r.windowStart}\u0000${r.windowEnd}`) === i);
}

/** State gauges are refreshed at most this often per partition (Prometheus scrapes every 15-30 s anyway). */
const STATS_INTERVAL_MS = 5_000;

export class WindowPartitionProcessor implements PartitionProcessor {
  private readonly store: InMemoryWindowStateStore;
  private readonly operator: PartitionWindowOperator;
  /** Source of every event in the current batch, for late/invalid reports that need the original. */
  private batch = new Map<string, { record: InboundRecord; event?: EnrichedEventMessage }>();
  /** When the state gauges were last computed: they scan the whole state, so not on every batch. */
  private statsAt = -Infinity;

  constructor(
    private readonly partition: number,
    state: Array<[string, unknown]>,
    options: WindowOperatorOptions,
    private readonly topics: TopicNames,
    private readonly repository: WindowResultsRepository,
    private readonly metrics: AggregateMetrics,
    private readonly clock: Clock,
    private readonly input: WindowInputTopic = 'enriched',
  ) {
    this.store = new InMemoryWindowStateStore(state);
    this.operator = new PartitionWindowOperator(options, this.store);
  }

  process(records: InboundRecord[]): StageOutput {
    const { decoded, progress, rejected } = decodeBatch(records, parseEnrichedEventMessage);
    this.batch = new Map();
    for (const { record, value: event } of decoded) {
      this.batch.set(record.offset, { record, event });
      let definition: string | undefined;
      if (this.input === 'repartition') {
        definition = repartitionedDefinition(record.headers);
        if (definition === undefined) {
          rejected.push({ offset: record.offset, error: new PoisonRecordError('REPARTITION_HEADER_MISSING', `no ${REPARTITION_HEADERS.definition} header`) });
          continue;
        }
      }
      try {
        this.operator.process({
          eventId: event.eventId, eventTime: event.occurredAt, value: event as unknown as Record<string, unknown>, offset: record.offset,
          observedAt: this.observedAt(record), ingestTime: event.receivedAt,
          ...(definition === undefined
            ? { dedupKey: tenantDedupKey(event.tenantId, event.eventId) }
            : { dedupKey: repartitionDedupKey(event.tenantId, event.eventId, definition), definition }),
        });
      } catch (error) {
        // The operator reports bad data as values; a throw is a defect. Dead-letter the record (with the
        // error) rather than retry a batch that can never succeed and stall the partition.
        rejected.push({ offset: record.offset, error: new ProcessingError('HANDLER_ERROR', (error as Error).message, false) });
      }
    }
    // After the batch's records: a marker applied later than its place can only delay the idle rule.
    for (const marker of progress) this.operator.onProgress(marker);
    return { ...this.toOutput(this.operator.drain(), rejected), receivedAt: decoded.map((d) => d.value.receivedAt) };
  }

  /**
   * When the pipeline first saw the record: its `events.enriched` Kafka timestamp — carried in a header through
   * the repartition topic — so FUTURE_TS is decided identically by every stage and on replay.
   */
  private observedAt(record: InboundRecord): number {
    const carried = Number(record.headers[REPARTITION_HEADERS.sourceTimestamp]);
    if (this.input === 'repartition' && Number.isFinite(carried) && carried > 0) return carried;
    return observedAt(record, this.clock.now());
  }

  takeStateChanges(): StateChanges {
    return this.store.takeChanges();
  }


  private toOutput(drained: DrainedOutput, rejected: Array<{ offset: string; error: Error }>): StageOutput {
    const now = this.clock.now();
    const outbox: OutboundRecord[] = [];
    const messages: AggregateResultMessage[] = [];
    for (const result of latestUpdatesOnly(drained.results)) {
      const message: AggregateResultMessage = { schemaVersion: 1, tenantId: tenantOf(result), ...result, emittedAt: now };
      messages.push(message);
      outbox.push({ topic: this.topics.aggregates, key: result.groupKey, value: JSON.stringify(message) });
      this.metrics.results.inc({ definition: result.definition, final: String(result.final) });
    }
    for (const late of drained.late) {
      const source = this.batch.get(late.offset);
      const message: LateEventMessage = {
        schemaVersion: 1, reason: late.reason, definition: late.definition ?? null,
        windowStart: late.windowStart ?? null, windowEnd: late.windowEnd ?? null,
        watermark: Number.isFinite(late.watermark) ? late.watermark : null,
        eventId: late.eventId, eventTime: late.eventTime,
        source: this.lateSource(source?.record, late.offset),
        event: source?.event ?? null,
      };
      // Keyed by account as `events.enriched` is (a repartition record's key is the window group).
      const key = this.input === 'repartition' ? (source?.event?.accountId ?? null) : (source?.record.key ?? null);
      outbox.push({ topic: this.topics.late, key, value: serializeLateReport(message) });
      this.metrics.late.inc({ definition: late.definition ?? 'all', reason: late.reason });
    }
    // Invalid for a definition (missing group-by field, non-numeric value): dead-lettered once per record.
    const invalidOffsets = new Set<string>();
    for (const invalid of drained.invalid) {
      if (invalidOffsets.has(invalid.offset)) continue;
      invalidOffsets.add(invalid.offset);
      rejected.push({ offset: invalid.offset, error: new PoisonRecordError('INVALID_FOR_WINDOW', `${invalid.definition ? `definition ${invalid.definition}: ` : ''}${invalid.reason}`) });
    }
    if (drained.duplicates > 0) this.metrics.duplicates.inc({}, drained.duplicates);
    if (now - this.statsAt >= STATS_INTERVAL_MS) {
      this.statsAt = now;
      const stats = this.operator.stats();
      this.metrics.openWindows.set({ input: this.input, partition: this.partition }, stats.openWindows);
      this.metrics.stateEntries.set({ input: this.input, partition: this.partition }, stats.stateEntries);
    }
    const watermark = this.operator.watermark;
    if (Number.isFinite(watermark)) this.metrics.watermarkLag.set({ input: this.input, partition: this.partition }, Math.max(0, now - watermark) / 1000);
    return {
      outbox,
      rejected,
      write: messages.length > 0 ? (tx) => this.repository.upsert(tx, messages) : undefined,
    };
  }

  /** The record a late report is about: for a repartition record, the `events.enriched` record it came from. */
  private lateSource(record: InboundRecord | undefined, offset: string): LateEventMessage['source'] {
    const headers = record?.headers ?? {};
    if (this.input === 'repartition' && headers[REPARTITION_HEADERS.sourceOffset] !== undefined) {
      return {
        topic: headers[REPARTITION_HEADERS.sourceTopic] ?? '', partition: Number(headers[REPARTITION_HEADERS.sourcePartition]),
        offset: headers[REPARTITION_HEADERS.sourceOffset],
      };
    }
    return { topic: record?.topic ?? '', partition: this.partition, offset };
  }
}

/**
 * The tenant of a window: its `group.tenantId` (definitions are tenant-scoped). Windows restored from state
 * written before tenants existed have none; their events belonged to {@link LEGACY_TENANT}.
 */
export function tenantOf(result: Pick<WindowResult, 'group'>): string {
  const tenantId = result.group[TENANT_FIELD];
  return typeof tenantId === 'string' ? tenantId : LEGACY_TENANT;
}
