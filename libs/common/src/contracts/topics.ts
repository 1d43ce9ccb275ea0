/**
 * Kafka topic names: the one source of truth. Every service, the stack launcher, the tests and the Helm chart
 * read these defaults; each can be overridden by the environment variable named in `TOPIC_ENV`.
 */
export const DEFAULT_TOPICS = {
  raw: 'events.raw',
  enriched: 'events.enriched',
  aggregates: 'aggregates',
  alerts: 'alerts',
  dlq: 'events.dlq',
  late: 'events.late',
  /**
   * Internal to aggregate: `events.enriched` re-keyed by `<definition>|<groupKey>` for window definitions whose
   * groups span input partitions (see README "Windows: exact semantics").
   */
  repartition: 'events.repartition',
  /**
   * Internal to the Postgres stages (aggregate, alert): compacted; one record per (stage group, input partition)
   * saying through which outbox seq that partition's outputs are published, written in the same Kafka
   * transaction as the outputs (see TransactionalOutbox).
   */
  outboxMarkers: 'streamguard.outbox-markers',
} as const;

export type TopicRole = keyof typeof DEFAULT_TOPICS;
export type TopicNames = Record<TopicRole, string>;

export const TOPIC_ENV: Record<TopicRole, string> = {
  raw: 'TOPIC_EVENTS_RAW',
  enriched: 'TOPIC_EVENTS_ENRICHED',
  aggregates: 'TOPIC_AGGREGATES',
  alerts: 'TOPIC_ALERTS',
  dlq: 'TOPIC_EVENTS_DLQ',
  late: 'TOPIC_EVENTS_LATE',
  repartition: 'TOPIC_EVENTS_REPARTITION',
  outboxMarkers: 'TOPIC_OUTBOX_MARKERS',
};

/**
 * Settings a topic needs beyond the durability ones every topic gets. The marker topic is compacted: only the
 * last marker per (group, partition) matters, and short segments let compaction keep it small (reading a
 * marker reads its partition from the start).
 */
export const TOPIC_CONFIG: Partial<Record<TopicRole, Record<string, string>>> = {
  outboxMarkers: { 'cleanup.policy': 'compact', 'segment.ms': String(10 * 60_000), 'min.cleanable.dirty.ratio': '0.1' },
};
