import { computeAlerts, computeWindows, decodeEnriched, TopicRecord } from './oracle';
import { DEFAULT_RULES, RuleDefinition } from '@streamguard/stream-core';

const SPEC = { name: 'w', sizeMs: 10_000, maxOutOfOrdernessMs: 0 };

function enriched(partition: number, offset: number, eventId: string, occurredAt: number, amountUsd = 1, accountId = 'a'): TopicRecord {
  const value = { schemaVersion: 1, eventId, accountId, occurredAt, amount: amountUsd, currency: 'USD', merchantId: 'm', receivedAt: 0, amountUsd, account: null, merchant: null, blocklistHits: [], flags: [], enrichedAt: 0 };
  return { topic: 'events.enriched', partition, offset: String(offset), key: accountId, value: JSON.stringify(value), headers: {} };
}

describe('window oracle (tumbling 10 s, out-of-orderness 0, lateness 0)', () => {
  it('counts per window, ignores repeats while the window is open, reports records of closed windows as late', () => {
    const records = [
      enriched(0, 0, 'e1', 1_000, 5),
      enriched(0, 1, 'e2', 9_000, 7),
      enriched(0, 2, 'e1', 1_000, 5), // repeat, window [0,10) still open
      enriched(0, 3, 'e3', 12_000, 1), // watermark 12 000: [0,10) closed
      enriched(0, 4, 'e4', 3_000, 1), // late
      enriched(0, 5, 'e2', 9_000, 7), // repeat after close: late, not counted twice
      enriched(0, 6, 'e5', 25_000, 1), // closes [10,20); its own window stays open
    ];
    const oracle = computeWindows(decodeEnriched(records).valid, SPEC);
    expect([...oracle.closed.entries()]).toEqual([
      ['a@0', { accountId: 'a', windowStart: 0, windowEnd: 10_000, count: 2, sumUsd: 12 }],
      ['a@10000', { accountId: 'a', windowStart: 10_000, windowEnd: 20_000, count: 1, sumUsd: 1 }],
    ]);
    expect([...oracle.late]).toEqual(['0:4', '0:5']);
    expect(oracle.duplicates).toBe(1);
    expect(oracle.openCount).toBe(1);
  });

  it('keeps watermarks per partition and replays in offset order whatever the read order', () => {
    const records = [enriched(1, 1, 'b2', 30_000, 1, 'b'), enriched(0, 0, 'a1', 1_000), enriched(1, 0, 'b1', 1_000, 1, 'b')];
    const oracle = computeWindows(decodeEnriched(records).valid, SPEC);
    expect([...oracle.closed.keys()]).toEqual(['b@0']); // partition 0 never advanced past 10 000
    expect(oracle.late.size).toBe(0);
  });

  it('separates records the services cannot decode', () => {
    const bad: TopicRecord = { topic: 't', partition: 0, offset: '9', key: null, value: '{oops', headers: {} };
    const decoded = decodeEnriched([enriched(0, 0, 'e1', 1), bad]);
    expect(decoded.valid).toHaveLength(1);
    expect(decoded.invalid.map((i) => i.record.offset)).toEqual(['9']);
  });
});

describe('alert oracle (the real rule engine per partition)', () => {
  it('raises large-amount and one velocity alert per cooldown, each once', () => {
    const records = [enriched(0, 0, 'big', 1_000, 20_000)];
    for (let i = 1; i <= 8; i++) records.push(enriched(0, i, `v${i}`, 1_000 + i * 1_000));
    records.push(enriched(0, 9, 'v1', 2_000)); // a repeat changes nothing
    const alerts = [...computeAlerts(decodeEnriched(records).valid, DEFAULT_RULES as RuleDefinition[]).values()];
    expect(alerts.map((a) => `${a.ruleId} ${a.eventId}`).sort()).toEqual(['large-amount big', 'velocity-1m v5']);
  });
});
