import { deliveryOrder, generateScenario } from './scenario';

describe('scenario generator', () => {
  const options = { seed: 1, runId: 'r', startTime: Date.UTC(2026, 0, 1), backgroundAccounts: 20, backgroundEvents: 200 };

  it('is deterministic for a seed', () => {
    expect(generateScenario(options)).toEqual(generateScenario(options));
  });

  it('plants one expected alert per pattern, on its own account', () => {
    const { expected } = generateScenario(options);
    expect(expected.map((e) => e.ruleId)).toEqual(['large-amount', 'velocity-1m', 'card-testing', 'impossible-travel', 'amount-anomaly', 'probe-then-spend', 'blocklisted']);
    expect(new Set(expected.map((e) => e.accountId)).size).toBe(expected.length);
  });

  it('keeps background accounts under 6 events per minute and every id unique', () => {
    const { events } = generateScenario(options);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    const byAccount = new Map<string, number[]>();
    for (const e of events.filter((x) => x.eventId.includes('-bg-'))) byAccount.set(e.accountId, [...(byAccount.get(e.accountId) ?? []), e.occurredAt]);
    for (const times of byAccount.values()) {
      times.sort((a, b) => a - b);
      for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(13_000);
      expect(times.length).toBeLessThanOrEqual(10);
    }
  });

  it('delivers every event, some twice, planted patterns in their own order', () => {
    const scenario = generateScenario(options);
    const order = deliveryOrder(scenario, 2, 0.1);
    expect(new Set(order.map((e) => e.eventId))).toEqual(new Set(scenario.events.map((e) => e.eventId)));
    expect(order.length).toBeGreaterThan(scenario.events.length);
    const velocity = order.filter((e) => e.eventId.includes('-velocity-')).map((e) => e.eventId);
    expect(velocity).toEqual(scenario.events.filter((e) => e.eventId.includes('-velocity-')).map((e) => e.eventId));
  });
});
