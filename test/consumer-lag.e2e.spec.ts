/**
 * A caught-up pipeline shows lag 0 — by the broker's own `kafka-consumer-groups` tool and by the services'
 * `*_consumer_lag_records` gauges — on every partition of every stage's input. Every upstream write is a Kafka
 * transaction, which ends with a marker (a control record) after its records; a stage that commits "last
 * record + 1" stops before that marker and shows lag 1 per partition forever, so an autoscaler on lag or a
 * "lag = 0" check never settles. Production defaults throughout (default window definitions, which include
 * the repartitioned `merchant-1h`, so all five consumer groups run).
 */
import type { TopicNames } from '@streamguard/common';
import { describeGroupsWithBrokerTool, PartitionLag } from './support/broker-tools';
import { ServiceStack } from './support/service-stack';
import { createTestTopics, testKafka, uniqueName } from './support/test-infra';
import { waitFor } from './support/wait-for';

describe('consumer lag after catch-up', () => {
  let topics: TopicNames;
  let stack: ServiceStack;

  beforeAll(async () => {
    topics = await createTestTopics(testKafka(), 3);
    stack = await new ServiceStack({ topics }).start();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('is 0 on every partition of every stage, by the broker tool and by the gauges', async () => {
    // 60 accounts and 60 merchants (unknown ones are processed with a flag): every partition of events.raw,
    // events.enriched and events.repartition (keyed by merchant window group) gets records, but for a chance of
    // 3 × (2/3)^60. A partition without records has no committed offset, which the broker tool shows as "-".
    const now = Date.now();
    const events = Array.from({ length: 60 }, (_, i) => ({
      eventId: uniqueName(`lag-${i}`), occurredAt: now - 1_000, accountId: uniqueName(`acc-lag-${i}`), amount: 10 + i, currency: 'EUR', merchantId: `mer-lag-${i}`,
    }));
    const response = await fetch(`${stack.url('ingest')}/v1/events`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...stack.auth }, body: JSON.stringify(events),
    });
    expect(response.status).toBe(202);

    const stages: Array<[group: string, topic: string]> = [
      [stack.groupId('enrich'), topics.raw],
      [stack.groupId('alert'), topics.enriched],
      [stack.groupId('aggregate'), topics.enriched],
      [`${stack.groupId('aggregate')}-repartition`, topics.enriched],
      [`${stack.groupId('aggregate')}-repartitioned`, topics.repartition],
    ];
    let last: PartitionLag[] = [];
    try {
      await waitFor('lag 0 on every partition by kafka-consumer-groups', async () => {
        last = (await describeGroupsWithBrokerTool()).filter((row) => stages.some(([group, topic]) => row.group === group && row.topic === topic));
        return last.length === stages.length * 3 && last.every((row) => row.lag === 0);
      }, 60_000, 500);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nlast described: ${JSON.stringify(last)}\n${stack.tail()}`);
    }

    // The gauges poll the same offsets every 10 s (LagMonitor): wait for a poll after the catch-up.
    const gaugeLines = async (service: string, prefix: string) => (await (await fetch(`${stack.url(service)}/metrics`)).text())
      .split('\n').filter((line) => line.startsWith(`${prefix}_consumer_lag_records{`));
    await waitFor('every lag gauge at 0', async () => {
      const lines = [
        ...await gaugeLines('enrich', 'enrich'), ...await gaugeLines('alert', 'alert'),
        ...await gaugeLines('aggregate', 'aggregate'), ...await gaugeLines('aggregate', 'aggregate_repartition'),
      ];
      // One series per partition of each of the five groups' input topics.
      return lines.length === stages.length * 3 && lines.every((line) => line.endsWith(' 0'));
    }, 40_000, 500);
  }, 150_000);
});
