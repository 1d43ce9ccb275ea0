import { ev, firingEvents, setup, thresholdRule } from './test/fixtures';

describe('threshold rule', () => {
  it('fires strictly above the limit for ">" and at the limit for ">="', () => {
    const gt = setup([thresholdRule({ field: 'amountUsd', op: '>', value: 10_000 })]).engine;
    expect(gt.evaluate(ev('e1', 1, { amountUsd: 10_000 }))).toEqual([]);
    expect(gt.evaluate(ev('e2', 2, { amountUsd: 10_000.01 }))).toHaveLength(1);
    const gte = setup([thresholdRule({ field: 'amountUsd', op: '>=', value: 10_000 })]).engine;
    expect(gte.evaluate(ev('e1', 1, { amountUsd: 9_999.99 }))).toEqual([]);
    expect(gte.evaluate(ev('e2', 2, { amountUsd: 10_000 }))).toHaveLength(1);
  });

  it('builds a complete alert', () => {
    const { engine } = setup([thresholdRule({ field: 'amountUsd', op: '>', value: 10_000 }, { id: 'large-amount', severity: 'high' })]);
    const [alert] = engine.evaluate(ev('e1', 1_700_000_000_000, { amountUsd: 12_500.5 }));
    expect(alert).toEqual({
      alertId: expect.stringMatching(/^[0-9a-f]{32}$/),
      ruleId: 'large-amount',
      ruleVersion: 1,
      ruleType: 'threshold',
      severity: 'high',
      tenantId: 'acme',
      accountId: 'acc-1',
      groupKey: 'tenantId=acme|accountId=acc-1',
      eventIds: ['e1'],
      occurredAt: 1_700_000_000_000,
      explanation: {
        summary: 'amountUsd = 12500.5 for tenantId=acme|accountId=acc-1 (limit > 10000)',
        params: { field: 'amountUsd', op: '>', value: 10_000 },
        observed: { field: 'amountUsd', value: 12_500.5 },
      },
    });
  });

  it('compares strings and booleans without coercion and ignores missing fields', () => {
    const { engine } = setup([thresholdRule({ field: 'merchant.country', op: '==', value: 'RU' })]);
    expect(firingEvents(engine, [ev('a', 1, { merchant: { country: 'RU' } }), ev('b', 2, { merchant: { country: 'ru' } }), ev('c', 3, {})])).toEqual(['a']);
    const flags = setup([thresholdRule({ field: 'attributes.cardPresent', op: '!=', value: true })]).engine;
    expect(firingEvents(flags, [ev('a', 1, { attributes: { cardPresent: false } }), ev('b', 2, { attributes: { cardPresent: true } }), ev('c', 3, {})])).toEqual(['a']);
    const str = setup([thresholdRule({ field: 'amountUsd', op: '>', value: 100 })]).engine;
    expect(str.evaluate(ev('a', 1, { amountUsd: '500' }))).toEqual([]);
  });

  it('applies filters before the rule', () => {
    const rule = thresholdRule({ field: 'amountUsd', op: '>', value: 100 }, { filters: [{ field: 'channel', op: 'in', value: ['web'] }] });
    const { engine } = setup([rule]);
    expect(firingEvents(engine, [ev('a', 1, { amountUsd: 500, channel: 'pos' }), ev('b', 2, { amountUsd: 500, channel: 'web' }), ev('c', 3, { amountUsd: 500 })])).toEqual(['b']);
  });

  it('honours the cooldown boundary: silent before T + cooldownMs, fires again exactly at it', () => {
    const { engine } = setup([thresholdRule({ field: 'amountUsd', op: '>', value: 100 }, { cooldownMs: 1000 })]);
    const big = { amountUsd: 500 };
    expect(
      firingEvents(engine, [ev('a', 10_000, big), ev('b', 10_999, big), ev('late', 9_000, big), ev('c', 11_000, big), ev('d', 11_999, big), ev('e', 12_000, big)]),
    ).toEqual(['a', 'c', 'e']);
  });

  it('keeps cooldowns per group key', () => {
    const { engine } = setup([thresholdRule({ field: 'amountUsd', op: '>', value: 100 }, { cooldownMs: 60_000 })]);
    const alerts = engine.evaluateBatch([ev('a', 1, { amountUsd: 500 }, 'acc-1'), ev('b', 2, { amountUsd: 500 }, 'acc-2'), ev('c', 3, { amountUsd: 500 }, 'acc-1')]);
    expect(alerts.map((a) => a.groupKey)).toEqual(['tenantId=acme|accountId=acc-1', 'tenantId=acme|accountId=acc-2']);
  });

  it('without a cooldown fires on every qualifying event, even at the same event time', () => {
    const { engine } = setup([thresholdRule({ field: 'amountUsd', op: '>', value: 100 })]);
    expect(firingEvents(engine, [ev('a', 5, { amountUsd: 500 }), ev('b', 5, { amountUsd: 500 }), ev('c', 1, { amountUsd: 500 })])).toEqual(['a', 'b', 'c']);
  });
});
