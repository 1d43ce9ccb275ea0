import { authEnv, ConfigOf, databaseEnv, httpEnv, intVar, kafkaEnv, stageEnv, topicEnv } from '@streamguard/common';

export const enrichEnv = {
  port: intVar('ENRICH_PORT', 'HTTP port of the enrich service (health, metrics, reference-data and API key management APIs).', 8081, 1, 65535),
  cacheTtlMs: intVar('ENRICH_CACHE_TTL_MS', 'How long account and merchant lookups are cached at most; changes normally arrive within milliseconds by LISTEN/NOTIFY.', 30_000, 0, 3_600_000),
  referencePollMs: intVar('ENRICH_REFERENCE_POLL_MS', 'While the LISTEN connection for reference data changes is down, cached reference data is dropped this often (and the connection is checked this often while up).', 5_000, 100, 600_000),
  partitionConcurrency: intVar('ENRICH_PARTITION_CONCURRENCY', 'Partitions enriched in parallel by one instance.', 3, 1, 64),
  ingestSourceTimeoutMs: intVar('ENRICH_INGEST_SOURCE_TIMEOUT_MS', 'In-band time: an ingest instance whose progress markers stopped this long (in marker time) before the newest one is taken as gone, and after taking over a partition enrich forwards no progress until the markers it read span this long (every live instance must have been heard). Keep it above ingest\'s 30 s Kafka delivery timeout.', 45_000, 1_000, 3_600_000),
  ...httpEnv,
  ...kafkaEnv,
  ...stageEnv,
  ...topicEnv,
  ...databaseEnv,
  ...authEnv,
};

export type EnrichConfig = ConfigOf<typeof enrichEnv>;
