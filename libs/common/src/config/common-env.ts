/** Variables every service reads. Service-specific ones live next to each app (`apps/<name>/src/<name>.config.ts`). */
import { DEFAULT_TOPICS, TOPIC_ENV, TopicNames, TopicRole } from '../contracts/topics';
import { boolVar, enumVar, EnvVar, intVar, listVar, optionalStringVar, secret, stringVar, ConfigOf } from './env-var';

export const LOCAL_DEFAULTS = {
  kafkaBrokers: '127.0.0.1:9092',
  databaseUrl: 'postgres://streamguard:streamguard@127.0.0.1:5433/streamguard',
} as const;

export const kafkaEnv = {
  kafkaBrokers: listVar('KAFKA_BROKERS', 'Kafka bootstrap servers (host:port, comma-separated). Unset for `npm start` to run a local broker.', LOCAL_DEFAULTS.kafkaBrokers),
  kafkaClientId: stringVar('KAFKA_CLIENT_ID', 'Kafka client id prefix; the service name and instance are appended.', 'streamguard'),
  kafkaGroupPrefix: stringVar('KAFKA_GROUP_PREFIX', 'Prefix of consumer group ids and transactional ids (`<prefix>.<service>`).', 'streamguard'),
  kafkaSaslMechanism: enumVar('KAFKA_SASL_MECHANISM', 'SASL mechanism for Kafka (`none` = no SASL). PLAIN only together with KAFKA_TLS=true.', ['none', 'plain', 'scram-sha-256', 'scram-sha-512'] as const, 'none'),
  kafkaSaslUsername: optionalStringVar('KAFKA_SASL_USERNAME', 'SASL user name (required when KAFKA_SASL_MECHANISM is set).'),
  kafkaSaslPassword: secret(optionalStringVar('KAFKA_SASL_PASSWORD', 'SASL password (required when KAFKA_SASL_MECHANISM is set; never logged).')),
  kafkaFetchMaxWaitMs: intVar('KAFKA_FETCH_MAX_WAIT_MS', 'Longest a consumer fetch waits at the broker for new records when there are none; lower means less idle-time latency at the cost of more fetch requests.', 100, 5, 10_000),
  kafkaTls: boolVar('KAFKA_TLS', 'Connect to Kafka over TLS.', false),
  kafkaTlsCaFile: optionalStringVar('KAFKA_TLS_CA_FILE', 'PEM file of the CA that signed the brokers\' certificates (default: the system CAs).'),
  kafkaTlsCertFile: optionalStringVar('KAFKA_TLS_CERT_FILE', 'PEM client certificate for mutual TLS (optional).'),
  kafkaTlsKeyFile: optionalStringVar('KAFKA_TLS_KEY_FILE', 'PEM private key of the client certificate (optional).'),
};

export type KafkaEnv = ConfigOf<typeof kafkaEnv>;

export const topicEnv = Object.fromEntries(
  (Object.keys(DEFAULT_TOPICS) as TopicRole[]).map((role) => [
    `topic_${role}`,
    stringVar(TOPIC_ENV[role], `Name of the \`${DEFAULT_TOPICS[role]}\` topic.`, DEFAULT_TOPICS[role]),
  ]),
) as Record<`topic_${TopicRole}`, EnvVar<string>>;

export function topicsFrom(config: Record<`topic_${TopicRole}`, string>): TopicNames {
  return Object.fromEntries((Object.keys(DEFAULT_TOPICS) as TopicRole[]).map((r) => [r, config[`topic_${r}`]])) as TopicNames;
}

export const databaseEnv = {
  databaseUrl: secret(stringVar('DATABASE_URL', 'Postgres connection string. Unset for `npm start` to run an embedded Postgres.', LOCAL_DEFAULTS.databaseUrl)),
  databasePoolSize: intVar('DATABASE_POOL_SIZE', 'Maximum Postgres connections per service instance.', 10, 1, 200),
};

export const httpEnv = {
  httpHost: stringVar('HTTP_HOST', 'Interface the HTTP server binds to.', '0.0.0.0'),
  logLevel: enumVar('LOG_LEVEL', 'Minimum log level (JSON lines on stdout).', ['debug', 'info', 'warn', 'error'] as const, 'info'),
  shutdownGraceMs: intVar('SHUTDOWN_GRACE_MS', 'On SIGTERM: time to finish the in-flight batch, commit and leave the group before exiting. Keep below the pod\'s terminationGracePeriodSeconds.', 20000, 1000, 600000),
  instanceId: stringVar('INSTANCE_ID', 'Name of this instance in logs, client ids and metrics (defaults to the hostname).', process.env.HOSTNAME ?? `pid-${process.pid}`),
};

export type TopicConfig = ConfigOf<typeof topicEnv>;

/** Every consuming stage (enrich, aggregate, alert). */
export const stageEnv = {
  partitionBlockedNotReadyMs: intVar('PARTITION_BLOCKED_NOT_READY_MS', 'A partition whose batch has kept failing with retriable errors (Kafka or Postgres trouble) this long makes the instance report not ready on /readyz; `<service>_partition_blocked_seconds` shows it before (0 = never).', 300_000, 0, 86_400_000),
};

/** API keys and their rate limits (every service's HTTP API; see README "Security"). */
export const authEnv = {
  rateLimitPerSecond: intVar('RATE_LIMIT_PER_SECOND', 'Default token-bucket rate per API key and service instance: events/s for ingest, requests/s for the other APIs. A key can carry its own.', 5_000, 1, 10_000_000),
  rateLimitBurst: intVar('RATE_LIMIT_BURST', 'Default token-bucket size per API key (the most events or requests at once). A key can carry its own.', 10_000, 1, 100_000_000),
  apiKeysPollMs: intVar('API_KEYS_POLL_MS', 'Safety-net reload interval of the in-memory API key table; changes normally arrive within milliseconds by LISTEN/NOTIFY.', 30_000, 100, 3_600_000),
};
