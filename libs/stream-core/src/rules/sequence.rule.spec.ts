import type { SequenceState } from './sequence.rule';
import { ev, firingEvents, sequenceRule, setup } from './test/fixtures';

const small = (id: string, t: number, account = 'acc-1') => ev(id, t, { amountUsd: 0.5 }, account);
const big = (id: string, t: number, account = 'acc-1') => ev(id, t, { amountUsd: 900 }, account);
const KEY = 'seq:1:tenantId=acme|accountId=acc-1:seq';

describe('sequence rule', () => {
  it('fires when then follows first within withinMs and explains the pair', () => {
    const { engine } = setup([sequenceRule({ withinMs: 60_000 })]);
    const alerts = engine.evaluateBatch([small('f', 1000), ev('mid', 2000, { amountUsd: 50 }), big('t', 13_000)]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].eventIds).toEqual(['f', 't']);
    expect(alerts[0].explanation.observed).toEqual({ firstEventId: 'f', firstEventTime: 1000, thenEventId: 't', thenEventTime: 13_000, elapsedMs: 12_000 });
    expect(alerts[0].explanation.summary).toBe('t matched "then" 12s after f matched "first" for tenantId=acme|accountId=acc-1 (within 60s)');
  });

  it('boundary: exactly withinMs later fires, 1 ms more does not', () => {
    expect(firingEvents(setup([sequenceRule({ withinMs: 60_000 })]).engine, [small('f', 0), big('t', 60_000)])).toEqual(['t']);
    expect(firingEvents(setup([sequenceRule({ withinMs: 60_000 })]).engine, [small('f', 0), big('t', 60_001)])).toEqual([]);
  });

  it('matches at the same event time (later or equal) but not a then earlier than the first', () => {
    const { engine } = setup([sequenceRule()]);
    const [alert] = engine.evaluateBatch([small('f', 5000), big('t', 5000)]);
    expect(alert.explanation.summary).toContain('at the same time as f');
    expect(firingEvents(setup([sequenceRule()]).engine, [small('f', 5000), big('t-before', 4999)])).toEqual([]);
  });

  it('does not match a first processed after its then', () => {
    expect(firingEvents(setup([sequenceRule()]).engine, [big('t', 5000), small('f-late', 1000)])).toEqual([]);
  });

  it('consumes the earliest eligible first; the others stay pending', () => {
    const { engine, store } = setup([sequenceRule()]);
    const alerts = engine.evaluateBatch([small('f1', 1000), small('f2', 2000), big('t1', 3000), big('t2', 4000), big('t3', 5000)]);
    expect(alerts.map((a) => a.eventIds)).toEqual([
      ['f1', 't1'],
      ['f2', 't2'],
    ]);
    expect(store.get<SequenceState>(KEY)?.p).toEqual([]);
  });

  it('lets an event matching both lists close an earlier sequence and then open one', () => {
    const rule = sequenceRule({ first: [{ field: 'channel', op: '==', value: 'web' }], then: [{ field: 'channel', op: '==', value: 'web' }] });
    const { engine } = setup([rule]);
    const alerts = engine.evaluateBatch([ev('a', 1, { channel: 'web' }), ev('b', 2, { channel: 'web' }), ev('c', 3, { channel: 'web' })]);
    expect(alerts.map((a) => a.eventIds)).toEqual([
      ['a', 'b'],
      ['b', 'c'],
    ]);
  });

  it('evicts firsts that can no longer match and ignores a duplicate pending first', () => {
    const { engine, store } = setup([sequenceRule({ withinMs: 1000 })]);
    engine.evaluateBatch([small('f1', 0), small('f1', 0), small('f2', 1500)]);
    expect(store.get<SequenceState>(KEY)).toEqual({ t: 1500, p: [['f2', 1500]] });
    expect(engine.evaluate(big('t-late', 900))).toEqual([]); // f1 was evicted
  });

  it('caps pending firsts per key', () => {
    const { engine, store } = setup([sequenceRule()], { maxBufferedEventsPerKey: 2 });
    engine.evaluateBatch([small('f1', 1), small('f2', 2), small('f3', 3)]);
    expect(store.get<SequenceState>(KEY)?.p.map((f) => f[0])).toEqual(['f2', 'f3']);
  });

  it('is per group key', () => {
    const { engine } = setup([sequenceRule({ groupBy: ['cardId'] })]);
    const alerts = engine.evaluateBatch([
      ev('f', 1, { amountUsd: 0.1, cardId: 'c1' }),
      ev('t-other', 2, { amountUsd: 900, cardId: 'c2' }),
      ev('t-nocard', 3, { amountUsd: 900 }),
      ev('t', 4, { amountUsd: 900, cardId: 'c1' }),
    ]);
    expect(alerts.map((a) => [a.groupKey, a.eventIds])).toEqual([['cardId=c1', ['f', 't']]]);
  });

  it('still consumes the first when the alert is suppressed by cooldown', () => {
    const { engine, store } = setup([sequenceRule({}, { cooldownMs: 60_000 })]);
    expect(firingEvents(engine, [small('f1', 0), big('t1', 1), small('f2', 2), big('t2', 3)])).toEqual(['t1']);
    expect(store.get<SequenceState>(KEY)?.p).toEqual([]);
  });
});
