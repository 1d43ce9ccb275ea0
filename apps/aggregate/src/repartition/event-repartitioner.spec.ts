import { DEFAULT_TOPICS, EnrichedEventMessage, InboundRecord, LateEventMessage, PoisonRecordError, REPARTITION_HEADERS } from '@streamguard/common';
import { parseWindowDefinitions, tenantScopedWindowDefinition, WindowDefinition } from '@streamguard/stream-core';
import { EnrichedInput, EventRepartitioner } from './event-repartitioner';

const NOW = 1_700_000_000_000;

const [account, merchant, country] = parseWindowDefinitions([
  { name: 'account-1m', groupBy: ['accountId'], window: { type: 'tumbling', sizeMs: 60_000 }, aggregations: [{ name: 'sumUsd', fn: 'sum', field: 'amountUsd' }] },
  { name: 'merchant-1h', groupBy: ['merchantId'], window: { type: 'tumbling', sizeMs: 3_600_000 }, aggregations: [{ name: 'n', fn: 'count' }] },
  { name: 'country-1h', groupBy: ['location.country'], window: { type: 'tumbling', sizeMs: 3_600_000 }, aggregations: [{ name: 'n', fn: 'count' }] },
]).map(tenantScopedWindowDefinition);

function input(overrides: Partial<EnrichedEventMessage> & Record<string, unknown> = {}, offset = '7'): EnrichedInput {
  const event = {
    schemaVersion: 1, tenantId: 'acme', eventId: 'e-1', occurredAt: NOW - 1000, accountId: 'acc-1', amount: 10, currency: 'USD', merchantId: 'm-1',
    receivedAt: NOW, amountUsd: 10, account: null, merchant: null, blocklistHits: [], flags: [], enrichedAt: NOW, ...overrides,
  } as EnrichedEventMessage;
  const record: InboundRecord = { topic: 'events.enriched', partition: 2, offset, key: 'acc-1', value: Buffer.from(JSON.stringify(event)), headers: {}, timestamp: NOW };
  return { record, event };
}

function repartitioner(repartitioned: WindowDefinition[], coPartitioned: WindowDefinition[]) {
  return new EventRepartitioner({ repartitioned, coPartitioned, topics: DEFAULT_TOPICS, maxFutureSkewMs: 60_000 });
}

describe('EventRepartitioner', () => {
  it('writes one record per repartitioned definition, keyed <definition>|<groupKey>, the value byte for byte', () => {
    const subject = repartitioner([merchant, country], [account]);
    const event = input({ location: { country: 'DE' } } as unknown as Partial<EnrichedEventMessage>);
    const outcome = subject.route(event, NOW);
    expect(outcome.rejected).toBeUndefined();
    expect(outcome.skipped).toBeUndefined();
    expect(outcome.outputs.map((o) => [o.topic, o.key, o.headers])).toEqual([
      ['events.repartition', 'merchant-1h|acme|m-1', {
        [REPARTITION_HEADERS.definition]: 'merchant-1h', [REPARTITION_HEADERS.sourceTopic]: 'events.enriched',
        [REPARTITION_HEADERS.sourcePartition]: '2', [REPARTITION_HEADERS.sourceOffset]: '7', [REPARTITION_HEADERS.sourceTimestamp]: String(NOW),
      }],
      ['events.repartition', 'country-1h|acme|DE', expect.objectContaining({ [REPARTITION_HEADERS.definition]: 'country-1h' })],
    ]);
    expect(outcome.outputs[0].value).toBe(event.record.value);
  });

  it('dead-letters a record invalid for a repartitioned definition once, and still repartitions it for the others', () => {
    const outcome = repartitioner([merchant, country], [account]).route(input(), NOW);
    expect(outcome.outputs.map((o) => o.key)).toEqual(['merchant-1h|acme|m-1']);
    expect(outcome.rejected).toBeInstanceOf(PoisonRecordError);
    expect(outcome.rejected).toMatchObject({ code: 'INVALID_FOR_WINDOW', message: "country-1h: groupBy field 'location.country' is missing or null" });
  });

  it('leaves a record also invalid for a co-partitioned definition to that stage (one DLQ record, not two)', () => {
    const outcome = repartitioner([country], [account]).route(input({ amountUsd: null }), NOW);
    expect(outcome).toEqual({ outputs: [], skipped: 'invalid' });
    // Without a co-partitioned stage, this stage dead-letters it.
    expect(repartitioner([country], []).route(input({ amountUsd: null }), NOW).rejected).toBeInstanceOf(PoisonRecordError);
  });

  it('leaves undecodable and FUTURE_TS records to the co-partitioned stage, or handles them itself when there is none', () => {
    const { record } = input();
    const error = new PoisonRecordError('INVALID_JSON', 'nope');
    expect(repartitioner([merchant], [account]).route({ record, error }, NOW)).toEqual({ outputs: [], skipped: 'undecodable' });
    expect(repartitioner([merchant], []).route({ record, error }, NOW)).toEqual({ outputs: [], rejected: error });

    const future = input({ occurredAt: NOW + 60_001 });
    expect(repartitioner([merchant], [account]).route(future, NOW)).toEqual({ outputs: [], skipped: 'future_ts' });
    const alone = repartitioner([merchant], []).route(future, NOW);
    expect(alone.outputs.map((o) => [o.topic, o.key])).toEqual([['events.late', 'acc-1']]);
    expect(JSON.parse(String(alone.outputs[0].value)) as LateEventMessage).toMatchObject({
      reason: 'FUTURE_TS', definition: null, watermark: null, eventId: 'e-1', source: { topic: 'events.enriched', partition: 2, offset: '7' },
    });
    // At the bound the record is still repartitioned.
    expect(repartitioner([merchant], []).route(input({ occurredAt: NOW + 60_000 }), NOW).outputs).toHaveLength(1);
  });

  it('judges FUTURE_TS against the record\'s Kafka timestamp, not the clock: every stage and every replay agree', () => {
    const future = input({ occurredAt: NOW + 61_000 }); // written at NOW, 61 s ahead: future for a 60 s skew
    expect(repartitioner([merchant], [account]).route(future, NOW + 3_600_000)).toEqual({ outputs: [], skipped: 'future_ts' });
    const fine = input({ occurredAt: NOW + 59_000 });
    expect(repartitioner([merchant], [account]).route(fine, NOW - 3_600_000).outputs).toHaveLength(1);
  });
});
