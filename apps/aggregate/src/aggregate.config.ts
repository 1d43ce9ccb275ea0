import { authEnv, ConfigOf, databaseEnv, httpEnv, intVar, jsonVar, kafkaEnv, stageEnv, topicEnv } from '@streamguard/common';
import { parseWindowDefinitions } from '@streamguard/stream-core';

/** Definitions used when WINDOW_DEFINITIONS is not set. */
export const DEFAULT_WINDOW_DEFINITIONS = [
  {
    name: 'account-1m', groupBy: ['accountId'], window: { type: 'tumbling', sizeMs: 60_000 },
    aggregations: [{ name: 'count', fn: 'count' }, { name: 'sumUsd', fn: 'sum', field: 'amountUsd' }, { name: 'maxUsd', fn: 'max', field: 'amountUsd' }],
    allowedLatenessMs: 0, emit: 'final',
  },
  {
    name: 'merchant-1h', groupBy: ['merchantId'], window: { type: 'tumbling', sizeMs: 3_600_000 },
    aggregations: [{ name: 'count', fn: 'count' }, { name: 'sumUsd', fn: 'sum', field: 'amountUsd' }, { name: 'accounts', fn: 'approxCountDistinct', field: 'accountId' }],
    allowedLatenessMs: 60_000, emit: 'update',
  },
];

export const aggregateEnv = {
  port: intVar('AGGREGATE_PORT', 'HTTP port of the aggregate service.', 8082, 1, 65535),
  windowDefinitions: jsonVar('WINDOW_DEFINITIONS', 'Window definitions (JSON array; see "Windows" in the README).', 'a JSON array of window definitions', parseWindowDefinitions, JSON.stringify(DEFAULT_WINDOW_DEFINITIONS)),
  maxOutOfOrdernessMs: intVar('WATERMARK_MAX_OUT_OF_ORDERNESS_MS', 'Bounded out-of-orderness: watermark = max event time seen on the partition minus this.', 2_000, 0, 86_400_000),
  idleTimeoutMs: intVar('WATERMARK_IDLE_TIMEOUT_MS', 'A partition with no records for this long advances its watermark with processing time (0 = never).', 10_000, 0, 86_400_000),
  maxFutureSkewMs: intVar('MAX_FUTURE_SKEW_MS', 'Records with event time further than this ahead of the time they were written to events.enriched (their Kafka timestamp) go to events.late as FUTURE_TS.', 300_000, 0, 31 * 86_400_000),
  tickMs: intVar('AGGREGATE_TICK_MS', 'How often idle partitions are checked and due windows fired.', 1_000, 50, 60_000),
  partitionConcurrency: intVar('AGGREGATE_PARTITION_CONCURRENCY', 'Partitions processed in parallel by one instance.', 3, 1, 64),
  ...httpEnv,
  ...kafkaEnv,
  ...stageEnv,
  ...topicEnv,
  ...databaseEnv,
  ...authEnv,
};

export type AggregateConfig = ConfigOf<typeof aggregateEnv>;
