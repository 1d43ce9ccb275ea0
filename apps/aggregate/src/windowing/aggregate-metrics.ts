import { LATENCY_BUCKETS_SECONDS, Metrics } from '@streamguard/common';

export class AggregateMetrics {
  readonly results;
  readonly late;
  readonly duplicates;
  readonly openWindows;
  readonly stateEntries;
  readonly watermarkLag;
  readonly restoreDuration;
  readonly outboxPublished;

  constructor(metrics: Metrics) {
    this.results = metrics.counter('aggregate_window_results_total', 'Window results emitted, by definition and whether final.', ['definition', 'final']);
    this.late = metrics.counter('aggregate_late_records_total', 'Records sent to events.late, by definition and reason (TOO_LATE, FUTURE_TS).', ['definition', 'reason']);
    this.duplicates = metrics.counter('aggregate_duplicate_records_total', 'Records ignored because their eventId was already counted.');
    // `input`: enriched (co-partitioned definitions) or repartition (the others, per events.repartition partition).
    this.openWindows = metrics.gauge('aggregate_open_windows', 'Windows holding state, per input (enriched, repartition) and partition.', ['input', 'partition']);
    this.stateEntries = metrics.gauge('aggregate_state_entries', 'State store entries (windows, dedup ids, metadata), per input (enriched, repartition) and partition.', ['input', 'partition']);
    this.watermarkLag = metrics.gauge('aggregate_watermark_lag_seconds', 'Processing time minus the partition watermark, per input (enriched, repartition) and partition.', ['input', 'partition']);
    this.restoreDuration = metrics.histogram('aggregate_restore_duration_seconds', 'Cold restore of one partition\'s window state from Postgres.', LATENCY_BUCKETS_SECONDS);
    this.outboxPublished = metrics.counter('aggregate_outbox_published_total', 'Records published from the outbox to Kafka.');
  }
}
