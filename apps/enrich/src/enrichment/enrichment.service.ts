import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import {
  CLOCK, Clock, DATABASE, Database, DecodedRecord, LOGGER, Logger, METRICS, Metrics, RawEventMessage, TransformResult,
} from '@streamguard/common';
import { firstSightingsInBatch } from '../devices/device-history';
import { PostgresDeviceHistory } from '../devices/postgres-device-history';
import { CachedReferenceData } from '../reference-data/cached-reference-data';
import { PostgresReferenceData } from '../reference-data/postgres-reference-data';
import { ReferenceChangeListener } from '../reference-data/reference-change.listener';
import { enrichEvent } from './enrich-event';
import { ENRICHMENT_SETTINGS, EnrichmentSettings } from './enrichment.stage';

/**
 * Enriches a batch of raw events: reference data read once per batch (cached; a change notification drops
 * the cached row at once), the device history written and read once per batch. Throws only when Postgres
 * fails (the stage rolls the batch back and retries it).
 */
@Injectable()
export class EnrichmentService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly references: CachedReferenceData;
  private readonly devices: PostgresDeviceHistory;
  private readonly changes: ReferenceChangeListener;
  private readonly flagged;

  constructor(
    @Inject(ENRICHMENT_SETTINGS) private readonly settings: EnrichmentSettings,
    @Inject(DATABASE) db: Database,
    @Inject(LOGGER) logger: Logger,
    @Inject(METRICS) metrics: Metrics,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.flagged = metrics.counter('enrich_reference_missing_total', 'Events enriched with missing reference data, by flag.', ['flag']);
    this.references = new CachedReferenceData(new PostgresReferenceData(db), clock, settings.cacheTtlMs);
    this.devices = new PostgresDeviceHistory(db);
    const invalidations = metrics.counter('enrich_reference_invalidations_total', 'Reference cache invalidations, by table (all: everything).', ['table']);
    this.changes = new ReferenceChangeListener(db, (change) => {
      if (change === 'all') this.references.invalidate();
      else this.references.apply(change);
      invalidations.inc({ table: change === 'all' ? 'all' : change.table });
    }, logger, metrics, settings.referencePollMs);
  }

  onApplicationBootstrap(): void {
    this.changes.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.changes.stop();
  }

  async enrich(records: DecodedRecord<RawEventMessage>[]): Promise<TransformResult> {
    const events = records.map((r) => r.value);
    const [snapshot, firstEventIdByDevice] = await Promise.all([
      this.references.snapshotFor(events),
      this.devices.recordFirstSightings(firstSightingsInBatch(events)),
    ]);
    const now = this.clock.now();
    const outputs = records.map((r) => {
      const enriched = enrichEvent(r.value, snapshot, firstEventIdByDevice, now);
      for (const flag of enriched.flags) this.flagged.inc({ flag });
      return { topic: this.settings.topics.enriched, key: enriched.accountId, value: JSON.stringify(enriched) };
    });
    return { outputs, rejected: [] };
  }
}
