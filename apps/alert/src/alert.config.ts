import { authEnv, ConfigOf, databaseEnv, httpEnv, intVar, kafkaEnv, topicEnv } from '@streamguard/common';

export const alertEnv = {
  port: intVar('ALERT_PORT', 'HTTP port of the alert service.', 8083, 1, 65535),
  rulesPollMs: intVar('RULES_POLL_MS', 'Safety-net reload interval for rules; changes normally arrive within milliseconds by LISTEN/NOTIFY.', 5_000, 100, 600_000),
  tickMs: intVar('ALERT_TICK_MS', 'How often rule changes are applied to idle partitions.', 1_000, 50, 60_000),
  partitionConcurrency: intVar('ALERT_PARTITION_CONCURRENCY', 'Partitions processed in parallel by one instance.', 3, 1, 64),
  ...httpEnv,
  ...kafkaEnv,
  ...topicEnv,
  ...databaseEnv,
  ...authEnv,
};

export type AlertConfig = ConfigOf<typeof alertEnv>;
