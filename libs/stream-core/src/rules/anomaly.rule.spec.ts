import type { AnomalyState } from './anomaly.rule';
import { anomalyRule, ev, firingEvents, setup } from './test/fixtures';

const amounts = (values: number[], account = 'acc-1', offset = 0) =>
  values.map((amountUsd, i) => ev(`${account}-e${i + offset}`, (i + offset) * 1000, { amountUsd }, account));

describe('anomaly rule', () => {
  // History 10, 20, 10, 20: mean 15, population std 5.
  const history = [10, 20, 10, 20];

  it('fires when |x - mean| / std > zScore, strictly', () => {
    const rule = anomalyRule({ zScore: 3, minEvents: 4 });
    expect(setup([rule]).engine.evaluateBatch(amounts([...history, 30]))).toEqual([]); // z = 3 exactly
    const alerts = setup([rule]).engine.evaluateBatch(amounts([...history, 30.5])); // z = 3.1
    expect(alerts).toHaveLength(1);
    expect(alerts[0].explanation.observed).toEqual({ field: 'amountUsd', value: 30.5, mean: 15, std: 5, zScore: 3.1, count: 4 });
    expect(alerts[0].explanation.summary).toBe(
      'amountUsd = 30.5 is 3.1 standard deviations from the mean 15 (std 5, 4 prior transactions) for tenantId=acme|accountId=acc-1 (limit > 3)',
    );
    expect(setup([rule]).engine.evaluateBatch(amounts([...history, -0.5]))).toHaveLength(1); // both directions
  });

  it('boundary: needs at least minEvents prior events (count == minEvents fires)', () => {
    expect(setup([anomalyRule({ zScore: 3, minEvents: 4 })]).engine.evaluateBatch(amounts([...history, 100]))).toHaveLength(1);
    expect(setup([anomalyRule({ zScore: 3, minEvents: 5 })]).engine.evaluateBatch(amounts([...history, 100]))).toEqual([]);
  });

  it('never fires on a constant history (std = 0)', () => {
    const { engine } = setup([anomalyRule({ zScore: 3, minEvents: 3 })]);
    expect(engine.evaluateBatch(amounts([9.99, 9.99, 9.99, 5000]))).toEqual([]);
  });

  it('adds every event, outliers included, to the history after evaluating it', () => {
    const { engine, store } = setup([anomalyRule({ zScore: 3, minEvents: 4 })]);
    expect(firingEvents(engine, amounts([...history, 100, 100]))).toEqual(['acc-1-e4']); // the 2nd 100 is less unusual
    const state = store.get<AnomalyState>('anom:1:tenantId=acme|accountId=acc-1:stats')!;
    expect(state.n).toBe(6);
    expect(state.mean).toBeCloseTo(260 / 6, 10);
  });

  it('matches a direct mean/std computation (Welford is numerically the same)', () => {
    const values = [12.5, 99.1, 3.3, 47, 51.9, 18.25, 77.7, 5, 64.4, 30];
    const { store, engine } = setup([anomalyRule({ zScore: 100, minEvents: 1 })]);
    engine.evaluateBatch(amounts(values));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
    const state = store.get<AnomalyState>('anom:1:tenantId=acme|accountId=acc-1:stats')!;
    expect(state.mean).toBeCloseTo(mean, 10);
    expect(state.m2 / state.n).toBeCloseTo(variance, 8);
  });

  it('ignores non-numeric values, keeps histories per group key, and supports a custom field and groupBy', () => {
    const { engine } = setup([anomalyRule({ zScore: 3, minEvents: 4, field: 'amount', groupBy: ['cardId'] })]);
    const card = (id: string, t: number, cardId: string, amount: unknown) => ev(id, t, { cardId, amount });
    const alerts = engine.evaluateBatch([
      ...[10, 20, 10, 20].map((a, i) => card(`c1-${i}`, i, 'c1', a)),
      card('c2-0', 10, 'c2', 1000), // another card: no history yet
      card('junk', 11, 'c1', '1000'),
      card('nocard', 12, undefined as unknown as string, 1000),
      card('c1-out', 13, 'c1', 1000),
    ]);
    expect(alerts.map((a) => [a.groupKey, a.eventIds[0]])).toEqual([['cardId=c1', 'c1-out']]);
  });

  it('ignores a recently seen duplicate eventId', () => {
    const { engine, store } = setup([anomalyRule({ zScore: 3, minEvents: 4 })]);
    const events = amounts([...history, 100]);
    engine.evaluateBatch(events);
    const before = store.get('anom:1:tenantId=acme|accountId=acc-1:stats');
    expect(engine.evaluate(events[4])).toEqual([]);
    expect(store.get('anom:1:tenantId=acme|accountId=acc-1:stats')).toBe(before);
  });
});
