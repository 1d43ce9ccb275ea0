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
  idleTimeoutMs: intVar('WATERMARK_IDLE_TIMEOUT_MS', 'In-band idle rule: once a partition\'s progress markers are this much ingest time past its newest record, its watermark advances to the marker time minus the out-of-orderness (0 = never). No clock is read: a paused upstream cannot make the records behind it late.', 10_000, 0, 86_400_000),
  maxFutureSkewMs: intVar('MAX_FUTURE_SKEW_MS', 'Records with event time further than this ahead of the time they were written to events.enriched (their Kafka timestamp) go to events.late as FUTURE_TS.', 300_000, 0, 31 * 86_400_000),
  tickMs: intVar('AGGREGATE_TICK_MS', 'How often owned partitions are checked: state dropped after a failed commit is restored, outputs whose publication failed are published again.', 1_000, 50, 60_000),
  partitionConcurrency: intVar('AGGREGATE_PARTITION_CONCURRENCY', 'Partitions processed in parallel by one instance.', 3, 1, 64),
  ...httpEnv,
  ...kafkaEnv,
  ...stageEnv,
  ...topicEnv,
  ...databaseEnv,
  ...authEnv,
};

export type AggregateConfig = ConfigOf<typeof aggregateEnv>;
