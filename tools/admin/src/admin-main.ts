/**
 * Operations CLI (used by the Helm hook Jobs and by hand):
 *   migrate [--seed]                          apply database migrations (and demo data)
 *   create-topics [--partitions N] [--replication-factor R] [--min-insync-replicas M]
 *   fetch-kafka                               download the local broker's jars (Maven) ahead of time
 *   keys create --tenant T --scopes ingest,read,admin [--name N] [--rate R] [--burst B] [--legacy-tenant]
 *   keys list [--tenant T]
 *   keys revoke KEY_ID
 *   accept-offset-gap --group G --topic T --partition P
 *                                             let a stopped partition go on from the log start (records lost to retention)
 * Reads DATABASE_URL, KAFKA_BROKERS and the TOPIC_* variables like the services do.
 */
import { acceptOffsetGap, ApiKeyStore, createKafkaClient, Database, databaseEnv, intVar, optionalIntVar, JsonLogger, parseScopes, kafkaEnv, kafkaSecurityFromEnv, loadConfig, topicEnv, topicsFrom } from '@streamguard/common';
import { ensureKafkaJars } from '../../local-infra/src/kafka-broker';
import { streamguardHome } from '../../local-infra/src/paths';
import { fail } from '../../local-infra/src/progress';
import { createTopics, migrateDatabase } from '../../local-infra/src/provision';

function flag(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
  const command = process.argv[2];
  switch (command) {
    case 'migrate': {
      const { databaseUrl } = loadConfig({ databaseUrl: databaseEnv.databaseUrl });
      await migrateDatabase(databaseUrl, process.argv.includes('--seed'));
      return;
    }
    case 'create-topics': {
      const config = loadConfig({
        ...kafkaEnv, ...topicEnv,
        partitions: intVar('TOPIC_PARTITIONS', 'Partitions per topic created by `admin create-topics`.', Number(flag('partitions') ?? 6), 1, 10_000),
        replicationFactor: intVar('TOPIC_REPLICATION_FACTOR', 'Replication factor of topics created by `admin create-topics`.', Number(flag('replication-factor') ?? 1), 1, 10),
        minInsyncReplicas: optionalIntVar('TOPIC_MIN_INSYNC_REPLICAS', 'min.insync.replicas of topics created by `admin create-topics` (unset: 2 from a replication factor of 3 on, else 1).', 1, 10, flag('min-insync-replicas') === undefined ? undefined : Number(flag('min-insync-replicas'))),
      });
      const layout = { partitions: config.partitions, replicationFactor: config.replicationFactor, minInsyncReplicas: config.minInsyncReplicas };
      await createTopics(config.kafkaBrokers, layout, topicsFrom(config), kafkaSecurityFromEnv(config));
      return;
    }
    case 'keys':
      await keys(process.argv[3]);
      return;
    case 'accept-offset-gap':
      await acceptGap();
      return;
    case 'fetch-kafka':
      await ensureKafkaJars(streamguardHome());
      return;
    default:
      fail(`usage: admin <migrate [--seed] | create-topics [--partitions N] [--replication-factor R] [--min-insync-replicas M] | keys <create|list|revoke> | accept-offset-gap --group G --topic T --partition P | fetch-kafka>${command ? ` (unknown command "${command}")` : ''}`);
  }
}

/** `accept-offset-gap`: the stage stopped the partition and logged this command; it says what is skipped. */
async function acceptGap(): Promise<void> {
  const groupId = flag('group');
  const topic = flag('topic');
  const partition = Number(flag('partition'));
  if (!groupId || !topic || !Number.isInteger(partition) || partition < 0) fail('usage: accept-offset-gap --group G --topic T --partition P (the stage logs the exact command)');
  const config = loadConfig({ databaseUrl: databaseEnv.databaseUrl, ...kafkaEnv });
  const logger = new JsonLogger('warn', { service: 'admin' });
  const db = new Database(config.databaseUrl, 1, logger, 'streamguard-admin');
  const admin = await createKafkaClient({ brokers: config.kafkaBrokers, clientId: 'streamguard-admin', logger, security: kafkaSecurityFromEnv(config) }).admin();
  try {
    const accepted = await acceptOffsetGap(db, admin, groupId, topic, partition);
    process.stdout.write(accepted
      ? `${groupId} goes on from ${topic}[${partition}]@${accepted.to}: offsets ${accepted.from}–${BigInt(accepted.to) - 1n} were deleted before it processed them and are skipped.\n`
      : `${groupId} has no gap on ${topic}[${partition}]: nothing changed.\n`);
  } finally {
    await admin.disconnect();
    await db.close();
  }
}

/**
 * `keys create` prints the token alone on stdout (so `KEY=$(npm run -s keys -- create …)` works) and what
 * it is on stderr; the token is not stored anywhere and cannot be shown again.
 */
async function keys(subcommand: string | undefined): Promise<void> {
  const { databaseUrl } = loadConfig({ databaseUrl: databaseEnv.databaseUrl });
  const db = new Database(databaseUrl, 1, new JsonLogger('warn', { service: 'admin' }), 'streamguard-admin');
  const store = new ApiKeyStore();
  try {
    switch (subcommand) {
      case 'create': {
        const tenantId = flag('tenant');
        const scopes = flag('scopes');
        if (!tenantId || !scopes) fail('usage: keys create --tenant T --scopes ingest,read,admin [--name N] [--rate R] [--burst B]');
        const rate = flag('rate');
        const burst = flag('burst');
        const { token, record } = await store.create(db, {
          tenantId, scopes: parseScopes(scopes), name: flag('name'),
          ratePerSecond: rate === undefined ? undefined : Number(rate), burst: burst === undefined ? undefined : Number(burst),
        }, { allowLegacyTenant: process.argv.includes('--legacy-tenant') });
        process.stderr.write(`Created API key ${record.keyId} for tenant ${record.tenantId} (${record.scopes.join(', ')}). Store it now: it is not shown again.\n`);
        process.stdout.write(`${token}\n`);
        return;
      }
      case 'list': {
        const rows = await store.list(db, flag('tenant'));
        for (const key of rows) {
          const limits = key.ratePerSecond === null && key.burst === null ? 'default limits' : `rate ${key.ratePerSecond ?? 'default'}/s burst ${key.burst ?? 'default'}`;
          const state = key.revokedAt === null ? 'active' : `revoked ${new Date(key.revokedAt).toISOString()}`;
          process.stdout.write(`${key.keyId}  ${key.tenantId}  ${key.scopes.join(',')}  ${limits}  ${state}  ${key.name}\n`);
        }
        if (rows.length === 0) process.stderr.write('no API keys\n');
        return;
      }
      case 'revoke': {
        const keyId = process.argv[4];
        if (!keyId) fail('usage: keys revoke KEY_ID');
        const revoked = await store.revoke(db, keyId);
        if (!revoked) fail(`no API key ${keyId}`);
        process.stderr.write(`Revoked API key ${keyId} (tenant ${revoked.tenantId}); every service refuses it from now on.\n`);
        return;
      }
      default:
        fail(`usage: keys <create|list|revoke>${subcommand ? ` (unknown subcommand "${subcommand}")` : ''}`);
    }
  } finally {
    await db.close();
  }
}

main().catch((error) => fail((error as Error).message));
