import { authEnv, ConfigOf, databaseEnv, httpEnv, intVar, kafkaEnv, stageEnv, topicEnv } from '@streamguard/common';
import { MAX_RULE_DURATION_MS } from '@streamguard/stream-core';

const DAY_MS = 24 * 60 * 60 * 1000;

export const alertEnv = {
  port: intVar('ALERT_PORT', 'HTTP port of the alert service.', 8083, 1, 65535),
  rulesPollMs: intVar('RULES_POLL_MS', 'Safety-net reload interval for rules; changes normally arrive within milliseconds by LISTEN/NOTIFY.', 5_000, 100, 600_000),
  rulesMaxPerTenant: intVar('RULES_MAX_PER_TENANT', 'Most rules (active and paused) one tenant may own; creating another gets 409 RULE_LIMIT_REACHED. Global rules (platform admin) do not count.', 100, 0, 100_000),
  rulesTenantMaxWindowMs: intVar('RULES_TENANT_MAX_WINDOW_MS', 'Longest `windowMs` (aggregate) and `withinMs` (sequence) of a tenant\'s rules; longer gets 422 RULE_OVER_LIMIT with the path. Global rules may use up to 366 days.', 7 * DAY_MS, 1_000, MAX_RULE_DURATION_MS),
  tickMs: intVar('ALERT_TICK_MS', 'How often rule changes are applied to idle partitions.', 1_000, 50, 60_000),
  partitionConcurrency: intVar('ALERT_PARTITION_CONCURRENCY', 'Partitions processed in parallel by one instance.', 3, 1, 64),
  ...httpEnv,
  ...kafkaEnv,
  ...stageEnv,
  ...topicEnv,
  ...databaseEnv,
  ...authEnv,
};

export type AlertConfig = ConfigOf<typeof alertEnv>;
