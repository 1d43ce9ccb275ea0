/**
 * Topics are created with an explicit `min.insync.replicas` (topic-durability.ts): `admin create-topics` — the
 * command the Helm hook Job and the manifests run — against the real broker, then the broker's own view of
 * the topic's configuration (its `kafka-configs` tool).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TopicNames } from '@streamguard/common';
import { REPO_ROOT } from '../tools/local-infra/src/paths';
import { topicConfigWithBrokerTool, topicsWithBrokerTool } from './support/broker-tools';
import { testInfra, topicEnv, uniqueTopicNames } from './support/test-infra';

const run = promisify(execFile);

function createTopicsCommand(topics: TopicNames, args: string[]) {
  const env = { ...process.env, KAFKA_BROKERS: testInfra().brokers, ...topicEnv(topics) };
  return run(process.execPath, [join(REPO_ROOT, 'dist', 'tools', 'admin', 'src', 'admin-main.js'), 'create-topics', ...args], { env, timeout: 60_000 });
}

describe('topic durability on creation', () => {
  it('creates every topic with min.insync.replicas set on the topic itself', async () => {
    const topics = uniqueTopicNames();
    const { stderr } = await createTopicsCommand(topics, ['--partitions', '2', '--replication-factor', '1', '--min-insync-replicas', '1']);
    expect(stderr).toContain('replication factor 1, min.insync.replicas 1'); // progress lines go to stderr
    for (const topic of Object.values(topics)) expect((await topicConfigWithBrokerTool(topic))['min.insync.replicas']).toBe('1');
  });

  it('refuses a value above the replication factor before creating anything, saying what to change', async () => {
    const topics = uniqueTopicNames();
    const failure = await createTopicsCommand(topics, ['--partitions', '1', '--replication-factor', '1', '--min-insync-replicas', '2']).then(() => null, (error: { code: number; stderr: string }) => error);
    expect(failure?.code).not.toBe(0);
    expect(failure?.stderr).toContain('min.insync.replicas 2 is above the replication factor 1');
    const existing = await topicsWithBrokerTool();
    expect(existing.length).toBeGreaterThan(0); // the listing works (the global setup's topics are there)
    expect(existing.filter((topic) => Object.values(topics).includes(topic))).toEqual([]);
  });
});
