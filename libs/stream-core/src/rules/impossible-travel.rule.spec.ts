import { haversineKm } from './geo';
import { TRAVEL_HISTORY_SIZE, type TravelState } from './impossible-travel.rule';
import { ev, firingEvents, setup, travelRule } from './test/fixtures';

const HOUR = 3_600_000;
const at = (lat: number, lon: number) => ({ location: { lat, lon } });
const PARIS = at(48.8566, 2.3522);
const NEW_YORK = at(40.7128, -74.006);
const ONE_DEGREE_KM = haversineKm({ lat: 0, lon: 0 }, { lat: 0, lon: 1 });

describe('impossible-travel rule', () => {
  it('fires when the implied speed exceeds maxKmh over at least minKm', () => {
    const { engine } = setup([travelRule({ maxKmh: 900, minKm: 100 })]);
    const alerts = engine.evaluateBatch([ev('paris', 0, PARIS), ev('nyc', 2 * HOUR, NEW_YORK)]);
    expect(alerts).toHaveLength(1);
    const [alert] = alerts;
    expect(alert.eventIds).toEqual(['paris', 'nyc']);
    expect(alert.groupKey).toBe('tenantId=acme|accountId=acc-1');
    expect(alert.explanation.observed).toMatchObject({ elapsedMs: 2 * HOUR, from: { eventId: 'paris' }, to: { eventId: 'nyc' } });
    expect(alert.explanation.observed.distanceKm as number).toBeCloseTo(5837, -1);
    expect(alert.explanation.summary).toMatch(/^5837\.\d+ km in 2h \(2918\.\d+ km\/h\) between paris and nyc for tenantId=acme\|accountId=acc-1 \(limit > 900 km\/h, min 100 km\)$/);
  });

  it('does not fire at a plausible speed', () => {
    const { engine } = setup([travelRule({ maxKmh: 900 })]);
    expect(engine.evaluateBatch([ev('paris', 0, PARIS), ev('nyc', 8 * HOUR, NEW_YORK)])).toEqual([]);
  });

  it('boundary: speed exactly maxKmh does not fire, just above does', () => {
    const events = [ev('a', 0, at(0, 0)), ev('b', HOUR, at(0, 1))];
    expect(setup([travelRule({ maxKmh: ONE_DEGREE_KM, minKm: 0 })]).engine.evaluateBatch(events)).toEqual([]);
    expect(setup([travelRule({ maxKmh: ONE_DEGREE_KM - 1e-6, minKm: 0 })]).engine.evaluateBatch(events)).toHaveLength(1);
  });

  it('boundary: distance exactly minKm fires, just below does not', () => {
    const events = [ev('a', 0, at(0, 0)), ev('b', 1000, at(0, 1))];
    expect(setup([travelRule({ maxKmh: 100, minKm: ONE_DEGREE_KM })]).engine.evaluateBatch(events)).toHaveLength(1);
    expect(setup([travelRule({ maxKmh: 100, minKm: ONE_DEGREE_KM + 1e-6 })]).engine.evaluateBatch(events)).toEqual([]);
  });

  it('treats dt = 0 as infinite speed (observed.speedKmh null); same place at the same time never fires', () => {
    const { engine } = setup([travelRule({ minKm: 0 })]);
    const [alert] = engine.evaluateBatch([ev('a', 5000, PARIS), ev('b', 5000, NEW_YORK)]);
    expect(alert.explanation.observed).toMatchObject({ elapsedMs: 0, speedKmh: null });
    expect(alert.explanation.summary).toContain('(at the same instant)');
    expect(JSON.parse(JSON.stringify(alert))).toEqual(alert);
    expect(engine.evaluate(ev('c', 5000, NEW_YORK))).toEqual([]);
  });

  it('ignores events without a valid location, and compares with the latest located event', () => {
    const { engine } = setup([travelRule()]);
    expect(firingEvents(engine, [ev('a', 0, PARIS), ev('no-loc', HOUR, {}), ev('bad', HOUR, { location: { lat: 100, lon: 0 } }), ev('b', 2 * HOUR, NEW_YORK)])).toEqual(['b']);
  });

  it('compares a late event with its predecessor in event time, not with the last arrival', () => {
    const { engine } = setup([travelRule()]);
    engine.evaluateBatch([ev('paris-0h', 0, PARIS), ev('nyc-20h', 20 * HOUR, NEW_YORK)]);
    // late event at 1h in New York: predecessor is paris-0h (1h earlier) -> impossible
    const [alert] = engine.evaluate(ev('nyc-1h-late', HOUR, NEW_YORK));
    expect(alert.eventIds).toEqual(['paris-0h', 'nyc-1h-late']);
    // a late event before everything retained has no predecessor
    expect(engine.evaluate(ev('nyc-early', -HOUR, NEW_YORK))).toEqual([]);
  });

  it('among equal event times, uses the one processed last', () => {
    const { engine } = setup([travelRule({ minKm: 0 })]);
    engine.evaluateBatch([ev('a', 0, PARIS), ev('b', 0, PARIS)]);
    const [alert] = engine.evaluate(ev('c', HOUR, NEW_YORK));
    expect(alert.eventIds).toEqual(['b', 'c']);
  });

  it('is per account and ignores duplicates', () => {
    const { engine } = setup([travelRule()]);
    const alerts = engine.evaluateBatch([ev('a', 0, PARIS, 'acc-1'), ev('b', HOUR, NEW_YORK, 'acc-2'), ev('c', HOUR, NEW_YORK, 'acc-1'), ev('c', HOUR, NEW_YORK, 'acc-1')]);
    expect(alerts.map((a) => a.eventIds)).toEqual([['a', 'c']]);
  });

  it('keeps a bounded location history', () => {
    const { engine, store } = setup([travelRule()]);
    for (let i = 0; i < 40; i++) engine.evaluate(ev(`e${i}`, i * HOUR, PARIS));
    const state = store.get<TravelState>('travel:1:tenantId=acme|accountId=acc-1:loc')!;
    expect(state.p).toHaveLength(TRAVEL_HISTORY_SIZE);
    expect(state.p[TRAVEL_HISTORY_SIZE - 1][0]).toBe('e39');
  });
});
