import { authEnv, ConfigOf, databaseEnv, httpEnv, intVar, kafkaEnv, topicEnv } from '@streamguard/common';

export const ingestEnv = {
  port: intVar('INGEST_PORT', 'HTTP port of the ingest service.', 8080, 1, 65535),
  maxBodyBytes: intVar('INGEST_MAX_BODY_BYTES', 'Largest accepted request body; larger requests get 413 before the body is read.', 1_048_576, 1024, 64 * 1_048_576),
  maxBatchEvents: intVar('INGEST_MAX_BATCH_EVENTS', 'Most events in one request (array or NDJSON); more gets 413.', 1000, 1, 100_000),
  maxInFlightEvents: intVar('INGEST_MAX_IN_FLIGHT_EVENTS', 'Events waiting for Kafka acknowledgement at once; beyond this, requests get 503 at once (bounded memory while Kafka is slow or down).', 50_000, 1, 10_000_000),
  idempotencyKeys: intVar('INGEST_IDEMPOTENCY_KEYS', 'Recent Idempotency-Key values remembered per instance (a repeated key gets the first answer, nothing is produced again).', 100_000, 0, 10_000_000),
  kafkaProducers: intVar('INGEST_KAFKA_PRODUCERS', 'Idempotent Kafka producers per instance, each with its own group commit. One producer has one write in flight per broker; more help when the broker round trip, not CPU, is the limit (remote brokers). Here, with the broker on the same 2 cores, 2 gave fewer single-event requests/s than 1.', 1, 1, 16),
  progressIntervalMs: intVar('INGEST_PROGRESS_INTERVAL_MS', 'How often this instance writes a progress marker to every events.raw partition (in-band time: windows of quiet partitions close by these markers, never by a downstream clock). Keep it well below ENRICH_INGEST_SOURCE_TIMEOUT_MS.', 1_000, 100, 60_000),
  produceTimeoutMs: intVar('INGEST_PRODUCE_TIMEOUT_MS', 'How long a request waits for Kafka (acks=all) before answering 503 with Retry-After.', 10_000, 100, 120_000),
  ...httpEnv,
  ...kafkaEnv,
  ...topicEnv,
  ...databaseEnv,
  ...authEnv,
};

export type IngestConfig = ConfigOf<typeof ingestEnv>;
