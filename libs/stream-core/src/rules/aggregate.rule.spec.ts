import fc from 'fast-check';
import type { AggregateState } from './aggregate.rule';
import { aggregateRule, ev, firingEvents, setup, triggers } from './test/fixtures';

const KEY = 'agg:1:accountId=acc-1:agg';

describe('aggregate rule: count', () => {
  it('fires on the event that makes count > limit, and on every later qualifying event without cooldown', () => {
    const { engine } = setup([aggregateRule({ op: '>', limit: 4 })]);
    const events = [0, 1, 2, 3, 4, 5].map((i) => ev(`e${i}`, 1000 + i * 1000));
    expect(firingEvents(engine, events)).toEqual(['e4', 'e5']);
  });

  it('distinguishes ">" from ">=" exactly at the limit', () => {
    const gte = setup([aggregateRule({ op: '>=', limit: 4 })]).engine;
    expect(firingEvents(gte, [0, 1, 2, 3].map((i) => ev(`e${i}`, i)))).toEqual(['e3']);
    const gt = setup([aggregateRule({ op: '>', limit: 4 })]).engine;
    expect(firingEvents(gt, [0, 1, 2, 3].map((i) => ev(`e${i}`, i)))).toEqual([]);
  });

  it('uses the half-open window (t - windowMs, t]: an event exactly windowMs older is out', () => {
    const rule = aggregateRule({ windowMs: 1000, op: '>=', limit: 2 });
    const out = setup([rule]).engine;
    expect(firingEvents(out, [ev('a', 0), ev('b', 1000)])).toEqual([]);
    const inside = setup([rule]).engine;
    expect(firingEvents(inside, [ev('a', 1), ev('b', 1000)])).toEqual(['b']);
  });

  it('includes late events in later evaluations when they fall in range', () => {
    const { engine } = setup([aggregateRule({ windowMs: 10_000, op: '>=', limit: 3 })]);
    // b-late's own window (2_000, 12_000] holds a and itself only (c is later): 2
    expect(firingEvents(engine, [ev('a', 10_000), ev('c', 15_000), ev('b-late', 12_000)])).toEqual([]);
    // d at 21_000 sees (11_000, 21_000]: b-late and c, plus itself
    const [alert] = engine.evaluate(ev('d', 21_000));
    expect(alert.eventIds).toEqual(['b-late', 'c', 'd']);
    expect(alert.explanation.observed).toMatchObject({ count: 3, windowStart: 11_000, windowEnd: 21_000 });
  });

  it('evaluates a late event over its own window, excluding later events', () => {
    const { engine } = setup([aggregateRule({ windowMs: 10_000, op: '>=', limit: 1 })]);
    engine.evaluateBatch([ev('a', 20_000), ev('b', 25_000)]);
    const [alert] = engine.evaluate(ev('late', 21_000));
    expect(alert.eventIds).toEqual(['a', 'late']);
    expect(alert.explanation.observed).toMatchObject({ count: 2 });
  });

  it('ignores a duplicate eventId still in the buffer (no alert, no state change)', () => {
    const { engine, store } = setup([aggregateRule({ op: '>=', limit: 1 })]);
    expect(engine.evaluate(ev('a', 1))).toHaveLength(1);
    const before = store.get(KEY);
    expect(engine.evaluate(ev('a', 1))).toEqual([]);
    expect(engine.evaluate(ev('a', 5))).toEqual([]);
    expect(store.get(KEY)).toBe(before);
  });

  it('evicts entries at or before maxT - windowMs and does not retain too-late events', () => {
    const { engine, store } = setup([aggregateRule({ windowMs: 1000, op: '>', limit: 100 })]);
    engine.evaluateBatch([ev('a', 0), ev('b', 500), ev('c', 1500)]);
    expect(store.get<AggregateState>(KEY)?.e.map((e) => e[0])).toEqual(['c']);
    engine.evaluate(ev('too-late', 400));
    expect(store.get<AggregateState>(KEY)).toEqual({ t: 1500, e: [['c', 1500, null]] });
  });

  it('caps the buffer per key, dropping the oldest', () => {
    const { engine, store } = setup([aggregateRule({ op: '>', limit: 100 })], { maxBufferedEventsPerKey: 3 });
    engine.evaluateBatch([1, 2, 3, 4, 5].map((i) => ev(`e${i}`, i)));
    expect(store.get<AggregateState>(KEY)?.e.map((e) => e[0])).toEqual(['e3', 'e4', 'e5']);
  });

  it('lists the window events in event-time order, triggering event last, capped to the most recent', () => {
    const { engine } = setup([aggregateRule({ op: '>=', limit: 1 })], { maxEventIdsPerAlert: 3 });
    engine.evaluateBatch([ev('a', 1), ev('b', 2), ev('d', 4)]);
    const [alert] = engine.evaluate(ev('c', 3));
    expect(alert.eventIds).toEqual(['a', 'b', 'c']); // d is later than c: outside c's window
    const [next] = engine.evaluate(ev('e', 5));
    expect(next.eventIds).toEqual(['c', 'd', 'e']);
    expect(next.explanation.observed).toMatchObject({ count: 5 });
  });

  it('explains itself', () => {
    const { engine } = setup([aggregateRule({ op: '>', limit: 4 }, { id: 'velocity-1m' })]);
    const alerts = engine.evaluateBatch([1, 2, 3, 4, 5].map((i) => ev(`e${i}`, i * 1000)));
    expect(alerts[0].explanation).toEqual({
      summary: '5 transactions in 60s for accountId=acc-1 (limit > 4)',
      params: { groupBy: ['accountId'], aggregation: 'count', windowMs: 60_000, op: '>', limit: 4 },
      observed: { aggregation: 'count', value: 5, count: 5, windowStart: -55_000, windowEnd: 5000 },
    });
    expect(alerts[0].eventIds).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
  });

  it('groups by several fields and skips events missing one', () => {
    const { engine } = setup([aggregateRule({ groupBy: ['accountId', 'merchantId'], op: '>=', limit: 2 })]);
    const alerts = engine.evaluateBatch([
      ev('a', 1, { merchantId: 'm:1' }),
      ev('b', 2, { merchantId: 'm-2' }),
      ev('c', 3, {}),
      ev('d', 4, { merchantId: 'm:1' }),
    ]);
    expect(triggers(alerts)).toEqual(['d']);
    expect(alerts[0].groupKey).toBe('accountId=acc-1|merchantId=m%3A1');
  });

  it('with a field, counts only events that have it', () => {
    const { engine } = setup([aggregateRule({ field: 'deviceId', op: '>=', limit: 2 })]);
    expect(firingEvents(engine, [ev('a', 1, { deviceId: 'd' }), ev('b', 2, {}), ev('c', 3, { deviceId: 'd' })])).toEqual(['c']);
  });

  it('re-fires only after the cooldown, in event time', () => {
    const { engine } = setup([aggregateRule({ op: '>', limit: 2 }, { cooldownMs: 60_000 })]);
    const events = [0, 1, 2, 3, 4, 5].map((i) => ev(`e${i}`, i * 10_000)).concat([ev('f', 80_000), ev('g', 80_000), ev('h', 80_001)]);
    // e2 fires at 20s; cooldown until 80s; window (20s, 80s] at f has e3,e4,e5,f = 4 > 2
    expect(firingEvents(engine, events)).toEqual(['e2', 'f']);
  });
});

describe('aggregate rule: numeric aggregations', () => {
  const amounts = [ev('a', 1, { amountUsd: 100 }), ev('b', 2, { amountUsd: 300 }), ev('x', 3, { amountUsd: 'n/a' }), ev('c', 4, { amountUsd: 200 })];

  it.each([
    ['sum', 600, '>=', 600],
    ['avg', 200, '==', 200],
    ['min', 100, '<=', 100],
    ['max', 300, '>=', 300],
  ] as const)('%s over the window (non-numeric values ignored)', (aggregation, expected, op, limit) => {
    const { engine } = setup([aggregateRule({ aggregation, field: 'amountUsd', op, limit })]);
    const alerts = engine.evaluateBatch(amounts);
    expect(triggers(alerts)).toContain('c');
    const last = alerts[alerts.length - 1];
    expect(last.explanation.observed).toMatchObject({ aggregation, field: 'amountUsd', value: expected, count: 3 });
    expect(last.eventIds).toEqual(['a', 'b', 'c']);
  });

  it('sum boundary: ">" does not fire at exactly the limit', () => {
    const { engine } = setup([aggregateRule({ aggregation: 'sum', field: 'amountUsd', op: '>', limit: 600 })]);
    expect(engine.evaluateBatch(amounts)).toEqual([]);
    const [alert] = engine.evaluate(ev('d', 5, { amountUsd: 0.01 }));
    expect(alert.explanation.summary).toBe('sum(amountUsd) = 600.01 over 4 transactions in 60s for accountId=acc-1 (limit > 600)');
  });

  it('sums in event-time order, so arrival order does not change the result', () => {
    const values = [0.1, 0.2, 0.3, 1e16, -1e16, 0.7];
    const run = (order: number[]) => {
      const { engine } = setup([aggregateRule({ aggregation: 'sum', field: 'amountUsd', op: '>', limit: -1e20 })]);
      for (const i of order) engine.evaluate(ev(`e${i}`, 1000 + i, { amountUsd: values[i] }));
      return engine.evaluate(ev('last', 2000, { amountUsd: 0 }))[0].explanation.observed.value;
    };
    expect(run([0, 1, 2, 3, 4, 5])).toBe(run([5, 4, 3, 2, 1, 0]));
  });

  it('countDistinct counts distinct scalar values, type-tagged', () => {
    const { engine } = setup([aggregateRule({ aggregation: 'countDistinct', field: 'deviceId', op: '>', limit: 2 })]);
    const alerts = engine.evaluateBatch([
      ev('a', 1, { deviceId: 'd1' }),
      ev('b', 2, { deviceId: 'd1' }),
      ev('c', 3, { deviceId: 1 }),
      ev('d', 4, { deviceId: '1' }),
      ev('e', 5, { deviceId: { nested: true } }),
    ]);
    expect(triggers(alerts)).toEqual(['d']);
    expect(alerts[0].explanation.summary).toBe('3 distinct deviceId values in 60s for accountId=acc-1 (limit > 2)');
  });
});

describe('aggregate rule: property', () => {
  it('count matches a brute-force oracle over random out-of-order streams', () => {
    const event = fc.record({ t: fc.integer({ min: 0, max: 5000 }), acc: fc.constantFrom('a', 'b') });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 8 }), (stream, windowMs, limit) => {
        const { engine } = setup([aggregateRule({ windowMs, op: '>=', limit })]);
        const seen: Array<{ t: number; acc: string }> = [];
        const maxT = new Map<string, number>();
        stream.forEach(({ t, acc }, i) => {
          const m = Math.max(maxT.get(acc) ?? t, t);
          maxT.set(acc, m);
          // Retained: earlier events of the key newer than m - windowMs; in range: (t - windowMs, t].
          const lower = Math.max(t - windowMs, m - windowMs);
          const count = 1 + seen.filter((s) => s.acc === acc && s.t > lower && s.t <= t).length;
          seen.push({ t, acc });
          const alerts = engine.evaluate({ eventId: `e${i}`, eventTime: t, tenantId: 'acme', accountId: acc, value: {} });
          expect(alerts.length).toBe(count >= limit ? 1 : 0);
          if (alerts.length > 0) expect(alerts[0].explanation.observed.count).toBe(count);
        });
      }),
      { numRuns: 200 },
    );
  });
});
