import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import {
  CLOCK, Clock, DATABASE, Database, decodeJsonRecord, KAFKA, KafkaPort, LOGGER, Logger, METRICS, Metrics, parseRawEventMessage, READINESS,
  ReadinessRegistry, StageMetrics, TopicNames, TransactionalTransformStage, TransformStageRunner,
} from '@streamguard/common';
import { firstSightingsInBatch } from '../devices/device-history';
import { PostgresDeviceHistory } from '../devices/postgres-device-history';
import { CachedReferenceData } from '../reference-data/cached-reference-data';
import { PostgresReferenceData } from '../reference-data/postgres-reference-data';
import { ReferenceChangeListener } from '../reference-data/reference-change.listener';
import { enrichEvent } from './enrich-event';

export interface EnrichmentSettings {
  groupId: string;
  topics: TopicNames;
  cacheTtlMs: number;
  /** While LISTEN is down, cached reference data is dropped this often. */
  referencePollMs: number;
  partitionConcurrency: number;
}
export const ENRICHMENT_SETTINGS = Symbol('EnrichmentSettings');

/**
 * `events.raw` → `events.enriched`, exactly once (Kafka transactions: outputs + offsets in one commit).
 * Reference data is read once per batch (cached; a change notification drops the cached row at once) and
 * the device history is written and read once per batch. Postgres down → the batch rolls back and is
 * retried with back-off (the partition pauses, nothing is committed, nothing is lost).
 */
@Injectable()
export class EnrichmentConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private runner?: TransformStageRunner<ReturnType<typeof parseRawEventMessage>>;
  private changes?: ReferenceChangeListener;

  constructor(
    @Inject(ENRICHMENT_SETTINGS) private readonly settings: EnrichmentSettings,
    @Inject(KAFKA) private readonly kafka: KafkaPort,
    @Inject(DATABASE) private readonly db: Database,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) private readonly metrics: Metrics,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(READINESS) private readonly readiness: ReadinessRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { settings, clock } = this;
    const stageMetrics = new StageMetrics(this.metrics, 'enrich');
    const flagged = this.metrics.counter('enrich_reference_missing_total', 'Events enriched with missing reference data, by flag.', ['flag']);
    const references = new CachedReferenceData(new PostgresReferenceData(this.db), clock, settings.cacheTtlMs);
    const devices = new PostgresDeviceHistory(this.db);
    const invalidations = this.metrics.counter('enrich_reference_invalidations_total', 'Reference cache invalidations, by table (all: everything).', ['table']);
    this.changes = new ReferenceChangeListener(this.db, (change) => {
      if (change === 'all') references.invalidate();
      else references.apply(change);
      invalidations.inc({ table: change === 'all' ? 'all' : change.table });
    }, this.logger, this.metrics, settings.referencePollMs);
    this.changes.start();
    const stage = new TransactionalTransformStage({
      groupId: settings.groupId,
      dlqTopic: settings.topics.dlq,
      kafka: this.kafka,
      logger: this.logger,
      metrics: stageMetrics,
      clock,
      decode: (record) => decodeJsonRecord(record, parseRawEventMessage),
      transform: async (records) => {
        const events = records.map((r) => r.value);
        const [snapshot, firstEventIdByDevice] = await Promise.all([
          references.snapshotFor(events),
          devices.recordFirstSightings(firstSightingsInBatch(events)),
        ]);
        const now = clock.now();
        const outputs = records.map((r) => {
          const enriched = enrichEvent(r.value, snapshot, firstEventIdByDevice, now);
          for (const flag of enriched.flags) flagged.inc({ flag });
          return { topic: settings.topics.enriched, key: enriched.accountId, value: JSON.stringify(enriched) };
        });
        return { outputs, rejected: [] };
      },
      onCommitted: (records) => {
        const now = clock.now();
        for (const r of records) stageMetrics.endToEndLatency.observe({}, (now - r.value.receivedAt) / 1000);
      },
    });
    // In the background, retrying: the HTTP server (health, reference API) comes up even while Kafka is down.
    this.runner = new TransformStageRunner({
      service: 'enrich', groupId: settings.groupId, inputTopic: settings.topics.raw, partitionConcurrency: settings.partitionConcurrency,
      stage, kafka: this.kafka, logger: this.logger, metrics: this.metrics, runningMessage: 'enriching', describe: { to: settings.topics.enriched },
    });
    this.readiness.register('kafka', () => this.runner?.isReady() ?? false);
    this.runner.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
    await this.changes?.stop();
  }
}
