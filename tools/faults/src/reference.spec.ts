import { DEFAULT_RULES } from '@streamguard/stream-core';
import { expectedAmountUsd, ObservedEvent, referenceAlerts, referenceUpdateWindows, referenceWindows } from './reference';
import { readEventRecords, TopicRecord } from './oracle';

const SPEC = { name: 'w', sizeMs: 10_000, maxOutOfOrdernessMs: 0 };

function observed(partition: number, offset: number, eventId: string, occurredAt: number, amount = 1, accountId = 'a'): ObservedEvent {
  return { partition, offset: String(offset), event: { eventId, occurredAt, accountId, amount, currency: 'USD', merchantId: 'm' }, amountUsd: amount };
}

describe('reference windows (tumbling 10 s, out-of-orderness 0, lateness 0)', () => {
  it('counts per window, ignores repeats while the window is open, reports records of closed windows as late', () => {
    const oracle = referenceWindows([
      observed(0, 0, 'e1', 1_000, 5),
      observed(0, 1, 'e2', 9_000, 7),
      observed(0, 2, 'e1', 1_000, 5), // repeat, window [0,10) still open
      observed(0, 3, 'e3', 12_000, 1), // watermark 12 000: [0,10) closed
      observed(0, 4, 'e4', 3_000, 1), // late
      observed(0, 5, 'e2', 9_000, 7), // repeat after close: late, not counted twice
      observed(0, 6, 'e5', 25_000, 1), // closes [10,20); its own window stays open
    ], SPEC);
    expect([...oracle.closed.entries()]).toEqual([
      ['a@0', { accountId: 'a', windowStart: 0, windowEnd: 10_000, count: 2, sumUsd: 12, maxUsd: 7 }],
      ['a@10000', { accountId: 'a', windowStart: 10_000, windowEnd: 20_000, count: 1, sumUsd: 1, maxUsd: 1 }],
    ]);
    expect([...oracle.late]).toEqual(['0:4', '0:5']);
    expect(oracle.duplicates).toBe(1);
    expect(oracle.openCount).toBe(1);
  });

  it('keeps watermarks per partition and replays in offset order whatever the read order', () => {
    const oracle = referenceWindows([observed(1, 1, 'b2', 30_000, 1, 'b'), observed(0, 0, 'a1', 1_000), observed(1, 0, 'b1', 1_000, 1, 'b')], SPEC);
    expect([...oracle.closed.keys()]).toEqual(['b@0']); // partition 0 never advanced past 10 000
    expect(oracle.late.size).toBe(0);
  });
});

describe('reference alerts (the default rules, evaluated without the rule engine)', () => {
  it('raises large-amount, and one velocity alert per cooldown with the window\'s events, each once', () => {
    const events = [observed(0, 0, 'big', 1_000, 20_000)];
    for (let i = 1; i <= 8; i++) events.push(observed(0, i, `v${i}`, 1_000 + i * 1_000));
    events.push(observed(0, 9, 'v1', 2_000)); // a repeat changes nothing
    events.push(observed(0, 10, 'v9', 70_000)); // past the cooldown, but alone in its 60 s: no alert
    const alerts = [...referenceAlerts(events, DEFAULT_RULES, 'acme').values()];
    expect(alerts).toEqual([
      { ruleId: 'large-amount', ruleVersion: 1, ruleType: 'threshold', severity: 'high', tenantId: 'acme', accountId: 'a', groupKey: 'tenantId=acme|accountId=a', eventIds: ['big'], occurredAt: 1_000 },
      {
        ruleId: 'velocity-1m', ruleVersion: 1, ruleType: 'aggregate', severity: 'medium', tenantId: 'acme', accountId: 'a', groupKey: 'tenantId=acme|accountId=a',
        eventIds: ['big', 'v1', 'v2', 'v3', 'v4', 'v5'], occurredAt: 6_000,
      },
    ]);
  });

  it('refuses rule types it does not implement, rather than checking nothing', () => {
    expect(() => referenceAlerts([observed(0, 0, 'e', 1)], [{ id: 'x', version: 1, type: 'anomaly', severity: 'low', params: {} }], 't')).toThrow('anomaly');
  });
});

describe('reference reading and reference data', () => {
  it('amountUsd is amount × usd_rate rounded to cents, null without a rate', () => {
    const rates = new Map([['EUR', 1.08]]);
    expect(expectedAmountUsd({ amount: 10.55, currency: 'EUR' }, rates)).toBe(11.39);
    expect(expectedAmountUsd({ amount: 1, currency: 'XXX' }, rates)).toBeNull();
  });

  it('reads records with JSON.parse only, setting aside what is not an event', () => {
    const record = (offset: string, value: string): TopicRecord => ({ topic: 't', partition: 0, offset, key: null, value, headers: {} });
    const read = readEventRecords([record('1', '{oops'), record('0', '{"eventId":"e1"}'), record('2', '{"eventId":5}')]);
    expect(read.valid.map((r) => r.eventId)).toEqual(['e1']);
    expect(read.invalid.map((i) => i.record.offset)).toEqual(['1', '2']);
  });
});

describe('reference of a repartitioned update-mode definition (tumbling 10 s by merchant, lateness 5 s)', () => {
  const spec = { name: 'm', groupBy: 'merchantId' as const, sizeMs: 10_000, maxOutOfOrdernessMs: 0, allowedLatenessMs: 5_000 };
  const shuffled = (offset: number, eventId: string, occurredAt: number, accountId: string, source: number) => ({
    ...observed(0, offset, eventId, occurredAt, 2, accountId), source: { partition: source % 3, offset: String(source) },
  });

  it('counts within the lateness, closes at end + lateness, reports later records by their events.enriched source', () => {
    const oracle = referenceUpdateWindows([
      shuffled(0, 'a', 1_000, 'x', 10),
      shuffled(1, 'b', 12_000, 'y', 11), // watermark 12 000: [0,10) fired, still open until 15 000
      shuffled(2, 'c', 2_000, 'y', 12), // within lateness: counted
      shuffled(3, 'a', 1_000, 'x', 13), // repeat while open: ignored
      shuffled(4, 'd', 16_000, 'x', 14), // watermark 16 000 ≥ 15 000: [0,10) closes
      shuffled(5, 'e', 3_000, 'x', 15), // too late, reported by its source
    ], spec);
    expect([...oracle.closed.entries()]).toEqual([['m@0', { group: 'm', windowStart: 0, windowEnd: 10_000, count: 2, sumUsd: 4, accounts: 2 }]]);
    expect([...oracle.open.values()].map((w) => [w.windowStart, w.count, w.accounts])).toEqual([[10_000, 2, 2]]);
    expect([...oracle.late]).toEqual(['0:15']);
    expect(oracle.duplicates).toBe(1);
  });
});
