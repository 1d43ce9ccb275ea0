import { ev, listRule, setup } from './test/fixtures';

describe('list rule', () => {
  const hits = [
    { kind: 'merchant', value: 'm-1', reason: 'chargebacks' },
    { kind: 'card', value: 'tok-9', reason: 'stolen' },
    { kind: 'ip', value: '10.0.0.1', reason: 'tor exit' },
  ];

  it('fires once per event with matching hits, listing them in observed', () => {
    const { engine } = setup([listRule({ kinds: ['card', 'ip'] })]);
    const alerts = engine.evaluate(ev('e1', 1, { blocklistHits: hits }));
    expect(alerts).toHaveLength(1);
    expect(alerts[0].explanation.observed).toEqual({ hits: [hits[1], hits[2]] });
    expect(alerts[0].explanation.summary).toBe('2 blocklist hits for tenantId=acme|accountId=acc-1: card tok-9 (stolen), ip 10.0.0.1 (tor exit)');
    expect(alerts[0].eventIds).toEqual(['e1']);
  });

  it('does not fire without a hit of the configured kinds', () => {
    const { engine } = setup([listRule({ kinds: ['device'] })]);
    expect(engine.evaluate(ev('e1', 1, { blocklistHits: hits }))).toEqual([]);
    expect(engine.evaluate(ev('e2', 2, { blocklistHits: [] }))).toEqual([]);
    expect(engine.evaluate(ev('e3', 3, {}))).toEqual([]);
  });

  it('skips malformed hits instead of failing', () => {
    const { engine } = setup([listRule({ kinds: ['country'] })]);
    const alerts = engine.evaluate(ev('e1', 1, { blocklistHits: [null, 'x', { kind: 'country' }, { kind: 'country', value: 'KP' }] }));
    expect(alerts[0].explanation.observed).toEqual({ hits: [{ kind: 'country', value: 'KP', reason: '' }] });
    expect(alerts[0].explanation.summary).toBe('1 blocklist hit for tenantId=acme|accountId=acc-1: country KP');
    expect(engine.evaluate(ev('e2', 2, { blocklistHits: 'card' }))).toEqual([]);
  });
});
