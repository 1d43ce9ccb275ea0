import {
  Clock, ConsumingStage, decodeJsonRecord, DEFAULT_TOPICS, HandledStage, KafkaPort, Logger, Metrics, parseRawEventMessage, RawEventMessage,
  StageMetrics, TopicNames, TransactionalTransformStage, TransformResult, TransformStageRunner,
} from '@streamguard/common';

export interface EnrichmentSettings {
  groupId: string;
  topics: TopicNames;
  cacheTtlMs: number;
  /** While LISTEN is down, cached reference data is dropped this often. */
  referencePollMs: number;
  partitionConcurrency: number;
  blockedNotReadyMs: number;
  /** See ENRICH_INGEST_SOURCE_TIMEOUT_MS. */
  ingestSourceTimeoutMs: number;
}
export const ENRICHMENT_SETTINGS = Symbol('EnrichmentSettings');

/**
 * `events.raw` → `events.enriched`, exactly once (Kafka transactions: outputs + offsets in one commit; see
 * TransactionalTransformStage). Records that do not decode go to the DLQ here; the rest go to the
 * `@EventPattern('events.raw')` handler (EnrichmentController). Postgres down → the batch rolls back and is
 * retried with back-off (the partition pauses, nothing is committed, nothing is lost).
 */
export function enrichmentStage(settings: EnrichmentSettings, deps: { kafka: KafkaPort; logger: Logger; metrics: Metrics; clock: Clock }): ConsumingStage {
  const { kafka, logger, metrics, clock } = deps;
  return new HandledStage(DEFAULT_TOPICS.raw, (handle) => {
    const stageMetrics = new StageMetrics(metrics, 'enrich');
    const stage = new TransactionalTransformStage<RawEventMessage>({
      groupId: settings.groupId, dlqTopic: settings.topics.dlq, kafka, logger, metrics: stageMetrics, clock,
      decode: (record) => decodeJsonRecord(record, parseRawEventMessage),
      transform: (records, partition) => handle(records, partition) as Promise<TransformResult>,
      // Ingest's progress markers go on, in order, to every events.enriched partition.
      progress: { outputTopic: settings.topics.enriched, sourceTimeoutMs: settings.ingestSourceTimeoutMs },
      onCommitted: (records) => {
        const now = clock.now();
        for (const r of records) stageMetrics.endToEndLatency.observe({}, (now - r.value.receivedAt) / 1000);
      },
    });
    // In the background, retrying: the HTTP server (health, reference API) comes up even while Kafka is down.
    return new TransformStageRunner({
      service: 'enrich', groupId: settings.groupId, inputTopic: settings.topics.raw, partitionConcurrency: settings.partitionConcurrency,
      blockedNotReadyMs: settings.blockedNotReadyMs, stage, kafka, logger, metrics, runningMessage: 'enriching', describe: { to: settings.topics.enriched },
    });
  });
}
