import { BATCH_SIZE_BUCKETS, END_TO_END_LATENCY_BUCKETS_SECONDS, LATENCY_BUCKETS_SECONDS, Metrics } from '../metrics/metrics.port';

/** Metrics every consuming stage exposes, named `<service>_…` so dashboards can line the stages up. */
export class StageMetrics {
  readonly processed;
  readonly dlq;
  readonly retries;
  readonly batchDuration;
  readonly batchSize;
  readonly endToEndLatency;
  readonly offsetGap;
  readonly blocked;

  constructor(metrics: Metrics, service: string) {
    this.processed = metrics.counter(`${service}_records_processed_total`, 'Input records fully processed and committed.', ['topic']);
    this.dlq = metrics.counter(`${service}_dlq_records_total`, 'Input records sent to the dead-letter topic, by error code.', ['topic', 'code']);
    this.retries = metrics.counter(`${service}_batch_retries_total`, 'Batches rolled back and retried after a transient error.', ['topic', 'code']);
    this.batchDuration = metrics.histogram(`${service}_batch_duration_seconds`, 'Time to process and commit one partition batch.', LATENCY_BUCKETS_SECONDS, ['topic']);
    this.batchSize = metrics.histogram(`${service}_batch_records`, 'Records per partition batch.', BATCH_SIZE_BUCKETS, ['topic']);
    this.blocked = metrics.gauge(`${service}_partition_blocked_seconds`, 'How long the partition\'s current batch has kept failing with retriable errors (0 once it commits).', ['topic', 'partition']);
    this.offsetGap = metrics.gauge(`${service}_partition_offset_gap_records`, 'Input records deleted by retention before this stage processed them; the partition is stopped until an operator accepts the gap (0 when none).', ['topic', 'partition']);
    this.endToEndLatency = metrics.histogram(`${service}_end_to_end_latency_seconds`, 'From ingest acceptance (receivedAt) to this stage committing the record\'s result.', END_TO_END_LATENCY_BUCKETS_SECONDS, []);
  }
}
