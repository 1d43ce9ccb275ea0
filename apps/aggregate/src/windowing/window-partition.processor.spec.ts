import { AggregateResultMessage, DEFAULT_TOPICS, InboundRecord, ManualClock, PrometheusMetrics, progressMarkerRecord, Queryable } from '@streamguard/common';
import { enrichedRecord } from '@streamguard/common/testing/enriched-records';
import { parseWindowDefinitions, tenantScopedWindowDefinition, WindowResult } from '@streamguard/stream-core';
import type { WindowResultsRepository } from '../aggregates/window-results.repository';
import { AggregateMetrics } from './aggregate-metrics';
import { latestUpdatesOnly, tenantOf, WindowPartitionProcessor } from './window-partition.processor';

const T0 = 1_700_000_040_000; // a minute boundary


function setup(idleTimeoutMs = 0) {
  const definitions = parseWindowDefinitions([
    { name: 'account-1m', groupBy: ['accountId'], window: { type: 'tumbling', sizeMs: 60_000 }, aggregations: [{ name: 'count', fn: 'count' }, { name: 'sumUsd', fn: 'sum', field: 'amountUsd' }] },
  ]).map(tenantScopedWindowDefinition); // as WindowAggregationConsumer does
  const upserted: AggregateResultMessage[] = [];
  const repository = { upsert: async (_tx: Queryable, messages: AggregateResultMessage[]) => void upserted.push(...messages) } as unknown as WindowResultsRepository;
  const clock = new ManualClock(T0 + 600_000);
  const processor = new WindowPartitionProcessor(
    0, [], { definitions, maxOutOfOrdernessMs: 0, idleTimeoutMs, maxFutureSkewMs: 3_600_000, clock },
    DEFAULT_TOPICS, repository, new AggregateMetrics(new PrometheusMetrics('test')), clock,
  );
  return { processor, upserted };
}

/** A progress marker as enrich forwards it (one upstream partition), read back as an inbound record. */
function marker(time: number, offset: string): InboundRecord {
  const out = progressMarkerRecord('events.enriched', 0, { source: 'events.raw/0', time, of: 1 });
  return { topic: out.topic, partition: 0, offset, key: null, value: Buffer.from(String(out.value)), headers: out.headers ?? {}, timestamp: time };
}

describe('WindowPartitionProcessor: in-band idle rule', () => {
  it('closes a quiet partition\'s window by its progress markers, whatever the aggregate\'s clock says', () => {
    const { processor } = setup(10_000);
    expect(processor.process([enrichedRecord('acme', 'e1', T0 + 1_000), marker(T0 + 5_000, '900')]).outbox).toEqual([]); // 4 s quiet: not idle
    const output = processor.process([marker(T0 + 71_000, '901')]); // 70 s of ingest time without a record
    expect(output.rejected).toEqual([]);
    expect(output.outbox.map((r) => JSON.parse(String(r.value)) as AggregateResultMessage).map((m) => [m.windowStart, m.count, m.final])).toEqual([[T0, 1, true]]);
  });

  it('dead-letters a malformed marker and takes nothing from it', () => {
    const { processor } = setup(10_000);
    processor.process([enrichedRecord('acme', 'e1', T0 + 1_000)]);
    const bad = { ...marker(T0 + 100_000, '902'), value: Buffer.from('{"source":""}') };
    const output = processor.process([bad]);
    expect((output.rejected ?? []).map((r) => [r.offset, (r.error as { code?: string }).code])).toEqual([['902', 'INVALID_PROGRESS_MARKER']]);
    expect(output.outbox).toEqual([]);
  });
});

describe('WindowPartitionProcessor: tenants', () => {
  it('gives two tenants with the same account and event ids their own windows, results and rows', async () => {
    const { processor, upserted } = setup();
    const output = processor.process([
      enrichedRecord('acme', 'e1', T0 + 1, 10), enrichedRecord('globex', 'e1', T0 + 2, 100), enrichedRecord('acme', 'e2', T0 + 3, 20),
      enrichedRecord('acme', 'e1', T0 + 4, 10), // acme's redelivery: counted once
      enrichedRecord('globex', 'flush', T0 + 60_000),
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

describe('WindowPartitionProcessor: repartitioned input', () => {
  const definitions = parseWindowDefinitions([
    { name: 'merchant-1m', groupBy: ['merchantId'], window: { type: 'tumbling', sizeMs: 60_000 }, aggregations: [{ name: 'count', fn: 'count' }] },
    { name: 'currency-1m', groupBy: ['currency'], window: { type: 'tumbling', sizeMs: 60_000 }, aggregations: [{ name: 'count', fn: 'count' }] },
  ]).map(tenantScopedWindowDefinition);

  function repartitioned(definition: string | undefined, eventId: string, t: number, sourceOffset: string): InboundRecord {
    const record = enrichedRecord('acme', eventId, t);
    const headers: Record<string, string> = definition === undefined ? {} : {
      'x-window-definition': definition, 'x-source-topic': 'events.enriched', 'x-source-partition': '2', 'x-source-offset': sourceOffset,
    };
    return { ...record, topic: 'events.repartition', partition: 1, key: `${definition}|acme|m-1`, headers };
  }

  it('applies each record to its own definition, deduplicates per definition, and reports late records by their source', async () => {
    const clock = new ManualClock(T0 + 600_000);
    const processor = new WindowPartitionProcessor(
      1, [], { definitions, maxOutOfOrdernessMs: 0, idleTimeoutMs: 0, maxFutureSkewMs: 3_600_000, clock },
      DEFAULT_TOPICS, { upsert: async () => undefined } as unknown as WindowResultsRepository, new AggregateMetrics(new PrometheusMetrics('test')), clock, 'repartition',
    );
    const output = processor.process([
      repartitioned('merchant-1m', 'e1', T0 + 1, '10'),
      repartitioned('currency-1m', 'e1', T0 + 1, '10'), // the same event for another definition: counted there too
      repartitioned('merchant-1m', 'e1', T0 + 2, '11'), // redelivered: a duplicate
      repartitioned('merchant-1m', 'flush', T0 + 60_000, '12'),
      repartitioned('merchant-1m', 'late', T0 + 5, '13'),
      repartitioned(undefined, 'no-header', T0 + 6, '14'),
    ]);
    const published = output.outbox.filter((r) => r.topic === DEFAULT_TOPICS.aggregates).map((r) => JSON.parse(String(r.value)) as AggregateResultMessage);
    expect(published.map((m) => [m.definition, m.groupKey, m.count])).toEqual([['merchant-1m', 'acme|m-1', 1], ['currency-1m', 'acme|USD', 1]]);
    const late = output.outbox.filter((r) => r.topic === DEFAULT_TOPICS.late);
    expect(late.map((r) => [r.key, JSON.parse(String(r.value)).source])).toEqual([['acc-1', { topic: 'events.enriched', partition: 2, offset: '13' }]]);
    expect(output.rejected?.map((r) => (r.error as { code?: string }).code)).toEqual(['REPARTITION_HEADER_MISSING']);
  });
});

describe('latestUpdatesOnly (update mode, per batch)', () => {
  const result = (groupKey: string, version: number, final: boolean, windowStart = T0): WindowResult => ({
    definition: 'merchant-1h', groupKey, group: {}, windowType: 'tumbling', windowStart, windowEnd: windowStart + 3_600_000,
    values: { count: version }, count: version, version, final,
  });

  it('keeps only the last update of each window of the batch, in order, and every final result', () => {
    const batch = [
      result('m-1', 1, false), result('m-2', 1, false), result('m-1', 2, false), result('m-1', 3, false),
      result('m-3', 1, false, T0 - 3_600_000), result('m-3', 2, true, T0 - 3_600_000), result('m-2', 2, false),
    ];
    expect(latestUpdatesOnly(batch).map((r) => [r.groupKey, r.version, r.final])).toEqual([
      ['m-1', 3, false], ['m-3', 1, false], ['m-3', 2, true], ['m-2', 2, false],
    ]);
  });

  it('leaves windows of other definitions and starts apart', () => {
    const other = { ...result('m-1', 1, false), definition: 'merchant-1m' };
    expect(latestUpdatesOnly([result('m-1', 1, false), other, result('m-1', 1, false, T0 + 3_600_000)])).toHaveLength(3);
  });
});
