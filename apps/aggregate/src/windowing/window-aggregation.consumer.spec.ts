import {
  Database, DEFAULT_TOPICS, JsonLogger, KafkaPort, ManualClock, PrometheusMetrics, ReadinessRegistry,
} from '@streamguard/common';
import { parseWindowDefinitions, WindowDefinition } from '@streamguard/stream-core';
import type { WindowResultsRepository } from '../aggregates/window-results.repository';
import { DEFAULT_WINDOW_DEFINITIONS } from '../aggregate.config';
import { WindowAggregationConsumer } from './window-aggregation.consumer';

const ACCOUNT_ONLY = parseWindowDefinitions(DEFAULT_WINDOW_DEFINITIONS).filter((d) => d.name === 'account-1m');
const MERCHANT_ONLY = parseWindowDefinitions(DEFAULT_WINDOW_DEFINITIONS).filter((d) => d.name === 'merchant-1h');

/** Starts the consumer with a Kafka that never connects, and returns the consumers it asked for. */
async function consumersFor(definitions: WindowDefinition[]): Promise<Array<{ groupId: string; topics: string[] }>> {
  const requested: Array<{ groupId: string; topics: string[] }> = [];
  const kafka = {
    batchConsumer: (options: { groupId: string; topics: string[] }) => {
      requested.push({ groupId: options.groupId, topics: options.topics });
      return new Promise(() => undefined);
    },
    admin: () => new Promise(() => undefined),
  } as unknown as KafkaPort;
  const consumer = new WindowAggregationConsumer(
    { groupId: 'sg.aggregate', topics: DEFAULT_TOPICS, definitions, maxOutOfOrdernessMs: 0, idleTimeoutMs: 0, maxFutureSkewMs: 0, tickMs: 1000, partitionConcurrency: 1 },
    kafka, {} as Database, new JsonLogger('error', { service: 'test' }), new PrometheusMetrics('test'), new ManualClock(0), new ReadinessRegistry(),
    {} as WindowResultsRepository,
  );
  await consumer.onApplicationBootstrap();
  await new Promise((resolve) => setImmediate(resolve));
  await consumer.beforeApplicationShutdown();
  return requested.sort((a, b) => a.groupId.localeCompare(b.groupId));
}

describe('WindowAggregationConsumer: which stages run', () => {
  it('runs only the co-partitioned stage when every definition is grouped by account first', async () => {
    expect(await consumersFor(ACCOUNT_ONLY)).toEqual([{ groupId: 'sg.aggregate', topics: ['events.enriched'] }]);
  });

  it('runs only the repartition stages when no definition is co-partitioned', async () => {
    expect(await consumersFor(MERCHANT_ONLY)).toEqual([
      { groupId: 'sg.aggregate-repartition', topics: ['events.enriched'] },
      { groupId: 'sg.aggregate-repartitioned', topics: ['events.repartition'] },
    ]);
  });

  it('runs all three for the defaults', async () => {
    expect((await consumersFor(parseWindowDefinitions(DEFAULT_WINDOW_DEFINITIONS))).map((c) => c.groupId))
      .toEqual(['sg.aggregate', 'sg.aggregate-repartition', 'sg.aggregate-repartitioned']);
  });
});
