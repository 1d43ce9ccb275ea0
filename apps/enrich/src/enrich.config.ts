import { ConfigOf, databaseEnv, httpEnv, intVar, kafkaEnv, topicEnv } from '@streamguard/common';

export const enrichEnv = {
  port: intVar('ENRICH_PORT', 'HTTP port of the enrich service (health, metrics).', 8081, 1, 65535),
  cacheTtlMs: intVar('ENRICH_CACHE_TTL_MS', 'How long account and merchant lookups are cached.', 30_000, 0, 3_600_000),
  partitionConcurrency: intVar('ENRICH_PARTITION_CONCURRENCY', 'Partitions enriched in parallel by one instance.', 3, 1, 64),
  ...httpEnv,
  ...kafkaEnv,
  ...topicEnv,
  ...databaseEnv,
};

export type EnrichConfig = ConfigOf<typeof enrichEnv>;
