import { AggregationPlan, WINDOW_AGGREGATORS } from './aggregators';
import { encodeGroupKey, extractGroup, fitsGroupKeyLimit, MAX_GROUP_KEY_BYTES } from './record-fields';
import { InMemoryWindowStateStore } from './window-state-store';

const fold = (fn: keyof typeof WINDOW_AGGREGATORS, values: Array<[number | string | boolean | null, number]>) => {
  const agg = WINDOW_AGGREGATORS[fn];
  return values.reduce((acc, [value, eventTime], arrival) => agg.add(acc, { value, eventTime, arrival }), agg.initialize());
};

describe('aggregators', () => {
  const xs: Array<[number, number]> = [
    [4, 3],
    [2, 1],
    [9, 2],
    [2, 1],
  ];
  it.each([
    ['count', 4],
    ['sum', 17],
    ['min', 2],
    ['max', 9],
    ['avg', 4.25],
    ['countDistinct', 3],
    ['first', 2], // event time 1, earliest arrival among the tie
    ['last', 4],
  ] as const)('%s', (fn, expected) => {
    expect(WINDOW_AGGREGATORS[fn].result(fold(fn, xs))).toBe(expected);
  });

  it('stddev is the population standard deviation (0 for one value, null for none)', () => {
    expect(WINDOW_AGGREGATORS.stddev.result(fold('stddev', [[2, 0], [4, 0], [4, 0], [4, 0], [5, 0], [5, 0], [7, 0], [9, 0]]))).toBeCloseTo(2, 12);
    expect(WINDOW_AGGREGATORS.stddev.result(fold('stddev', [[5, 0]]))).toBe(0);
    expect(WINDOW_AGGREGATORS.stddev.result(WINDOW_AGGREGATORS.stddev.initialize())).toBeNull();
    expect(WINDOW_AGGREGATORS.avg.result(WINDOW_AGGREGATORS.avg.initialize())).toBeNull();
    expect(WINDOW_AGGREGATORS.min.result(WINDOW_AGGREGATORS.min.initialize())).toBeNull();
  });

  it.each(['count', 'sum', 'min', 'max', 'avg', 'stddev', 'countDistinct', 'first', 'last'] as const)('merge(%s) equals a single pass', (fn) => {
    const agg = WINDOW_AGGREGATORS[fn];
    const all: Array<[number, number]> = [[3, 5], [1, 2], [8, 2], [3, 9], [-2, 0], [7, 7]];
    const single = agg.result(fold(fn, all));
    const a = fold(fn, all.slice(0, 2));
    // arrivals of the second half must continue after the first half for first/last ties
    const b = all.slice(2).reduce((acc, [value, eventTime], i) => agg.add(acc, { value, eventTime, arrival: i + 2 }), agg.initialize());
    const merged = agg.result(agg.merge(b, a));
    if (typeof single === 'number') expect(merged).toBeCloseTo(single, 9);
    else expect(merged).toBe(single);
    expect(JSON.parse(JSON.stringify(agg.merge(a, b)))).toEqual(agg.merge(a, b));
  });

  it('countDistinct keeps 1 and "1" apart; first/last render booleans as text; nulls are skipped', () => {
    expect(WINDOW_AGGREGATORS.countDistinct.result(fold('countDistinct', [[1, 0], ['1', 0], [null, 0], [1, 0]]))).toBe(2);
    expect(WINDOW_AGGREGATORS.first.result(fold('first', [[null, 0], [true, 1]]))).toBe('true');
    expect(WINDOW_AGGREGATORS.count.result(fold('count', [[null, 0], ['x', 1]]))).toBe(1);
  });

  it('AggregationPlan extracts fields and rejects non-numeric values for numeric aggregations', () => {
    const plan = new AggregationPlan([
      { name: 'n', fn: 'count' },
      { name: 's', fn: 'sum', field: 'tx.amount' },
      { name: 'm', fn: 'countDistinct', field: 'merchant' },
    ]);
    expect(plan.extract({ tx: { amount: ' 12.5 ' } })).toEqual({ ok: true, inputs: [1, 12.5, null] });
    for (const amount of [undefined, null, 'abc', '1e999', Number.NaN, Number.POSITIVE_INFINITY, true, {}]) {
      expect(plan.extract({ tx: { amount } })).toEqual({ ok: false, reason: "field 'tx.amount' of aggregation 's' (sum) is not numeric" });
    }
    expect(plan.extract({ tx: { amount: 1 }, merchant: ['x'] })).toEqual({ ok: false, reason: "field 'merchant' of aggregation 'm' (countDistinct) is not a scalar" });
    const accs = plan.add(plan.add(plan.initialize(), [1, 2, 'a'], 0, 0), [1, 3, 'a'], 1, 1);
    expect(plan.results(accs)).toEqual({ n: 2, s: 5, m: 1 });
  });
});

describe('group keys', () => {
  it('joins String(value) by | with \\ and | escaped', () => {
    expect(encodeGroupKey(['acc-1'])).toBe('acc-1');
    expect(encodeGroupKey(['acc-1', 'card-9'])).toBe('acc-1|card-9');
    expect(encodeGroupKey(['a|b', 'c\\'])).toBe('a\\|b|c\\\\');
    expect(encodeGroupKey([7, true])).toBe('7|true');
  });

  it('reads dot paths and rejects missing, null and non-scalar group values', () => {
    expect(extractGroup({ location: { country: 'FR' }, accountId: 'a' }, ['accountId', 'location.country'])).toEqual({
      ok: true,
      groupKey: 'a|FR',
      group: { accountId: 'a', 'location.country': 'FR' },
    });
    expect(extractGroup({ location: null }, ['location.country'])).toMatchObject({ ok: false });
    expect(extractGroup({ a: null }, ['a'])).toEqual({ ok: false, reason: "groupBy field 'a' is missing or null" });
    expect(extractGroup({ a: [1] }, ['a'])).toEqual({ ok: false, reason: "groupBy field 'a' is not a string, finite number or boolean" });
  });

  it('rejects a group key longer than MAX_GROUP_KEY_BYTES of UTF-8 (it is part of Postgres keys), counting bytes, not characters', () => {
    const tooLong = { ok: false, reason: `group key is longer than ${MAX_GROUP_KEY_BYTES} bytes` };
    // 'a|' + 2,046 ASCII characters = 2,048 bytes: fits; one more does not.
    expect(extractGroup({ a: 'a', b: 'x'.repeat(2046) }, ['a', 'b'])).toMatchObject({ ok: true });
    expect(extractGroup({ a: 'a', b: 'x'.repeat(2047) }, ['a', 'b'])).toEqual(tooLong);
    // 682 characters of 3 bytes = 2,046 bytes: fits; 683 = 2,049 bytes does not, though far fewer characters.
    expect(extractGroup({ a: '€'.repeat(682) }, ['a'])).toMatchObject({ ok: true });
    expect(extractGroup({ a: '€'.repeat(683) }, ['a'])).toEqual(tooLong);
    expect(fitsGroupKeyLimit('😀'.repeat(512))).toBe(true); // 1,024 UTF-16 units, 2,048 bytes
    expect(fitsGroupKeyLimit('😀'.repeat(513))).toBe(false);
  });
});

describe('InMemoryWindowStateStore', () => {
  it('tracks upserts and deletes since the last takeChanges()', () => {
    const store = new InMemoryWindowStateStore([['old', 1], ['gone', 2]]);
    expect(store.takeChanges()).toEqual({ upserts: [], deletes: [] });
    store.put('a/1', { x: 1 });
    store.put('a/1', { x: 2 });
    store.put('b', 3);
    store.delete('gone');
    store.put('tmp', 1);
    store.delete('tmp');
    store.delete('never-existed');
    expect(store.takeChanges()).toEqual({ upserts: [['a/1', { x: 2 }], ['b', 3]], deletes: ['gone', 'tmp'] });
    expect(store.takeChanges()).toEqual({ upserts: [], deletes: [] });
    expect([...store.keys('a/')]).toEqual(['a/1']);
    expect(store.size()).toBe(3);
    expect(store.get('old')).toBe(1);
  });
});
