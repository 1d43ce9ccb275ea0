import { Database, DEFAULT_TOPICS, JsonLogger, KafkaPort, ManualClock, PrometheusMetrics } from '@streamguard/common';
import { parseWindowDefinitions, WindowDefinition } from '@streamguard/stream-core';
import type { WindowResultsRepository } from '../aggregates/window-results.repository';
import { DEFAULT_WINDOW_DEFINITIONS } from '../aggregate.config';
import { REPARTITION_PATTERN, windowAggregationStages } from './window-aggregation.stages';

const ACCOUNT_ONLY = parseWindowDefinitions(DEFAULT_WINDOW_DEFINITIONS).filter((d) => d.name === 'account-1m');
const MERCHANT_ONLY = parseWindowDefinitions(DEFAULT_WINDOW_DEFINITIONS).filter((d) => d.name === 'merchant-1h');

/** Starts the stages with a Kafka that never connects, and returns their patterns and the consumers they asked for. */
async function consumersFor(definitions: WindowDefinition[]): Promise<Array<{ pattern: string; groupId: string; topics: string[] }>> {
  const requested: Array<{ groupId: string; topics: string[] }> = [];
  const kafka = {
    batchConsumer: (options: { groupId: string; topics: string[] }) => {
      requested.push({ groupId: options.groupId, topics: options.topics });
      return new Promise(() => undefined);
    },
    // Enough for the start-up check of the input's partition count (recorded as 3, found 3).
    admin: async () => ({ partitionCount: async () => 3, disconnect: async () => undefined }),
  } as unknown as KafkaPort;
  const db = { query: async () => ({ rows: [{ partitions: 3, recorded_at: new Date(0) }] }) } as unknown as Database;
  const stages = windowAggregationStages(
    { groupId: 'sg.aggregate', topics: DEFAULT_TOPICS, definitions, maxOutOfOrdernessMs: 0, idleTimeoutMs: 0, maxFutureSkewMs: 0, tickMs: 1000, partitionConcurrency: 1, blockedNotReadyMs: 0 },
    { kafka, db, logger: new JsonLogger('error', { service: 'test' }), metrics: new PrometheusMetrics('test'), clock: new ManualClock(0), repository: {} as WindowResultsRepository },
  );
  const patterns: string[] = [];
  for (const stage of stages) {
    patterns.push(stage.pattern);
    stage.start(async () => undefined);
    // A stage may check its input first, then asks for its consumer (which never connects here): one at a time,
    // so requests and patterns pair up in order.
    for (let i = 0; i < 50 && requested.length < patterns.length; i += 1) await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(stages.map((s) => s.stop()));
  return requested.map((r, i) => ({ pattern: patterns[i], ...r })).sort((a, b) => a.groupId.localeCompare(b.groupId));
}

describe('windowAggregationStages: which stages run, under which handler pattern', () => {
  it('runs only the co-partitioned stage when every definition is grouped by account first', async () => {
    expect(await consumersFor(ACCOUNT_ONLY)).toEqual([{ pattern: 'events.enriched', groupId: 'sg.aggregate', topics: ['events.enriched'] }]);
  });

  it('runs only the repartition stages when no definition is co-partitioned', async () => {
    expect(await consumersFor(MERCHANT_ONLY)).toEqual([
      { pattern: REPARTITION_PATTERN, groupId: 'sg.aggregate-repartition', topics: ['events.enriched'] },
      { pattern: 'events.repartition', groupId: 'sg.aggregate-repartitioned', topics: ['events.repartition'] },
    ]);
  });

  it('runs all three for the defaults', async () => {
    expect((await consumersFor(parseWindowDefinitions(DEFAULT_WINDOW_DEFINITIONS))).map((c) => c.groupId))
      .toEqual(['sg.aggregate', 'sg.aggregate-repartition', 'sg.aggregate-repartitioned']);
  });
});
