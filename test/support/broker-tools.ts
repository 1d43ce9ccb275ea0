/**
 * The broker's own command-line tools (`kafka-consumer-groups.sh`, `kafka-configs.sh`), run from the test
 * broker's jars: an oracle that shares no code with our Kafka client.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureKafkaJars } from '../../tools/local-infra/src/kafka-broker';
import { testInfraHome } from '../../tools/local-infra/src/paths';
import { testInfra } from './test-infra';

async function runBrokerTool(mainClass: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const libDir = await ensureKafkaJars(testInfraHome());
  const run = spawnSync('java', ['-cp', join(libDir, '*'), mainClass, '--bootstrap-server', testInfra().brokers, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout ?? '', stderr: run.stderr ?? '' };
}

export interface PartitionLag { group: string; topic: string; partition: number; lag: number | null }

/** `kafka-consumer-groups.sh --describe --all-groups`: committed offset, log end and lag per partition. */
export async function describeGroupsWithBrokerTool(): Promise<PartitionLag[]> {
  const run = await runBrokerTool('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', ['--describe', '--all-groups']);
  if (run.status !== 0) throw new Error(`kafka-consumer-groups failed: ${run.stderr}`);
  return run.stdout.split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length >= 6 && /^\d+$/.test(cols[2]))
    .map(([group, topic, partition, , , lag]) => ({ group, topic, partition: Number(partition), lag: lag === '-' ? null : Number(lag) }));
}

/** `kafka-configs.sh --describe` of a topic: the configuration set on the topic itself (not broker defaults). */
export async function topicConfigWithBrokerTool(topic: string): Promise<Record<string, string>> {
  const run = await runBrokerTool('kafka.admin.ConfigCommand', ['--entity-type', 'topics', '--entity-name', topic, '--describe']);
  if (run.status !== 0) throw new Error(`kafka-configs failed: ${run.stderr}`);
  const entries = run.stdout.split('\n').map((line) => /^\s+([a-z0-9.]+)=(\S*)/.exec(line)).filter((m) => m !== null);
  return Object.fromEntries(entries.map((m) => [m[1], m[2]]));
}

/** `kafka-topics.sh --list`: every topic the broker has. */
export async function topicsWithBrokerTool(): Promise<string[]> {
  const run = await runBrokerTool('org.apache.kafka.tools.TopicCommand', ['--list']);
  if (run.status !== 0) throw new Error(`kafka-topics failed: ${run.stderr}`);
  return run.stdout.split('\n').map((line) => line.trim()).filter(Boolean);
}

/** `kafka-topics.sh --alter --partitions`: grows a topic to `partitions` (Kafka cannot shrink one). */
export async function growTopicWithBrokerTool(topic: string, partitions: number): Promise<void> {
  const run = await runBrokerTool('org.apache.kafka.tools.TopicCommand', ['--alter', '--topic', topic, '--partitions', String(partitions)]);
  if (run.status !== 0) throw new Error(`kafka-topics --alter failed: ${run.stderr}`);
}

/** `kafka-delete-records.sh`: deletes a partition's records before `beforeOffset` (as retention would). */
export async function deleteRecordsWithBrokerTool(topic: string, partition: number, beforeOffset: number): Promise<void> {
  const file = join(tmpdir(), `delete-records-${process.pid}-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify({ version: 1, partitions: [{ topic, partition, offset: beforeOffset }] }));
  try {
    const run = await runBrokerTool('org.apache.kafka.tools.DeleteRecordsCommand', ['--offset-json-file', file]);
    if (run.status !== 0) throw new Error(`kafka-delete-records failed: ${run.stderr}`);
  } finally {
    rmSync(file, { force: true });
  }
}
