import { AggregateResultMessage, DEFAULT_TOPICS, InboundRecord, ManualClock, PrometheusMetrics, Queryable } from '@streamguard/common';
import { parseWindowDefinitions, tenantScopedWindowDefinition } from '@streamguard/stream-core';
import type { WindowResultsRepository } from '../aggregates/window-results.repository';
import { AggregateMetrics } from './aggregate-metrics';
import { tenantOf, WindowPartitionProcessor } from './window-partition.processor';

const T0 = 1_700_000_040_000; // a minute boundary

let offset = 0;
function enriched(tenantId: string, eventId: string, t: number, amountUsd = 10, accountId = 'acc-1'): InboundRecord {
  offset += 1;
  const value = {
    schemaVersion: 1, tenantId, eventId, occurredAt: t, accountId, amount: amountUsd, currency: 'USD', merchantId: 'm-1', receivedAt: t,
    amountUsd, account: null, merchant: null, blocklistHits: [], flags: [], enrichedAt: t,
  };
  return { topic: 'events.enriched', partition: 0, offset: String(offset), key: accountId, value: Buffer.from(JSON.stringify(value)), headers: {}, timestamp: t };
}

function setup() {
  const definitions = parseWindowDefinitions([
    { name: 'account-1m', groupBy: ['accountId'], window: { type: 'tumbling', sizeMs: 60_000 }, aggregations: [{ name: 'count', fn: 'count' }, { name: 'sumUsd', fn: 'sum', field: 'amountUsd' }] },
  ]).map(tenantScopedWindowDefinition); // as WindowAggregationConsumer does
  const upserted: AggregateResultMessage[] = [];
  const repository = { upsert: async (_tx: Queryable, messages: AggregateResultMessage[]) => void upserted.push(...messages) } as unknown as WindowResultsRepository;
  const clock = new ManualClock(T0 + 600_000);
  const processor = new WindowPartitionProcessor(
    0, [], { definitions, maxOutOfOrdernessMs: 0, idleTimeoutMs: 0, maxFutureSkewMs: 3_600_000, clock },
    DEFAULT_TOPICS, repository, new AggregateMetrics(new PrometheusMetrics('test')), clock,
  );
  return { processor, upserted };
}

describe('WindowPartitionProcessor: tenants', () => {
  it('gives two tenants with the same account and event ids their own windows, results and rows', async () => {
    const { processor, upserted } = setup();
    const output = processor.process([
      enriched('acme', 'e1', T0 + 1, 10), enriched('globex', 'e1', T0 + 2, 100), enriched('acme', 'e2', T0 + 3, 20),
      enriched('acme', 'e1', T0 + 4, 10), // acme's redelivery: counted once
      enriched('globex', 'flush', T0 + 60_000),
    ]);
    expect(output.rejected).toEqual([]);
    await output.write?.(undefined as unknown as Queryable);
    const published = output.outbox.map((r) => ({ key: r.key, ...(JSON.parse(String(r.value)) as AggregateResultMessage) }));
    expect(published.map((m) => [m.key, m.tenantId, m.groupKey, m.group, m.count, m.values.sumUsd])).toEqual([
      ['acme|acc-1', 'acme', 'acme|acc-1', { tenantId: 'acme', accountId: 'acc-1' }, 2, 30],
      ['globex|acc-1', 'globex', 'globex|acc-1', { tenantId: 'globex', accountId: 'acc-1' }, 1, 100],
    ]);
    expect(upserted.map((m) => [m.tenantId, m.groupKey])).toEqual([['acme', 'acme|acc-1'], ['globex', 'globex|acc-1']]);
  });

  it('attributes windows restored from before tenants existed to the legacy tenant', () => {
    expect(tenantOf({ group: { tenantId: 'acme', accountId: 'a' } })).toBe('acme');
    expect(tenantOf({ group: { accountId: 'a' } })).toBe('default');
  });
});
