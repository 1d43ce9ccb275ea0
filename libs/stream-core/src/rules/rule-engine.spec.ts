import fc from 'fast-check';
import { computeAlertId } from './alert-id';
import { DEFAULT_RULES } from './default-rules';
import type { RuleDefinition, RuleEvent } from './rule-definition';
import { ENGINE_META_KEY, RuleEngine, type AlertCandidate } from './rule-engine';
import { InMemoryRuleStateStore } from './rule-state-store';
import { tenantScopedRule } from '../tenancy/tenant-scope';
import {
  aggregateRule,
  anomalyRule,
  ev,
  firingEvents,
  listRule,
  sequenceRule,
  setup,
  snapshot,
  thresholdRule,
  travelRule,
  triggers,
} from './test/fixtures';

/** One rule of every type, with cooldowns, filters and out-of-order-sensitive state. */
const MIXED_RULES: RuleDefinition[] = [
  thresholdRule({ field: 'amountUsd', op: '>', value: 800 }, { id: 'large', cooldownMs: 5_000 }),
  aggregateRule({ op: '>=', limit: 3, windowMs: 10_000 }, { id: 'velocity', cooldownMs: 3_000 }),
  aggregateRule({ aggregation: 'sum', field: 'amountUsd', op: '>', limit: 1500, windowMs: 20_000 }, { id: 'spend' }),
  aggregateRule({ aggregation: 'countDistinct', field: 'deviceId', op: '>=', limit: 3, windowMs: 30_000 }, { id: 'devices' }),
  travelRule({ maxKmh: 900, minKm: 50 }, { id: 'travel' }),
  anomalyRule({ zScore: 2, minEvents: 4 }, { id: 'anomaly' }),
  sequenceRule({ withinMs: 15_000 }, { id: 'card-testing', filters: [{ field: 'channel', op: '==', value: 'web' }] }),
  listRule({ kinds: ['card', 'ip'] }, { id: 'blocklist', severity: 'critical' }),
];

/** Deterministic pseudo-random stream (LCG), with out-of-order times and duplicates. */
function mixedStream(n: number, seed = 42): RuleEvent[] {
  let s = seed;
  const rnd = () => (s = (s * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const events: RuleEvent[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0 && rnd() < 0.05) {
      events.push(events[Math.floor(rnd() * events.length)]); // redelivery
      continue;
    }
    const t = 1_700_000_000_000 + i * 1_500 - Math.floor(rnd() * 4_000); // up to 4 s out of order
    const value: Record<string, unknown> = {
      amountUsd: rnd() < 0.1 ? 0.5 : Math.round(rnd() * 1_000 * 100) / 100,
      deviceId: pick(['d1', 'd2', 'd3', 'd4']),
      channel: pick(['web', 'pos']),
    };
    if (rnd() < 0.6) value.location = pick([{ lat: 48.85, lon: 2.35 }, { lat: 40.71, lon: -74.0 }, { lat: 48.9, lon: 2.4 }]);
    if (rnd() < 0.08) value.blocklistHits = [{ kind: pick(['card', 'ip', 'device']), value: 'x', reason: 'test' }];
    events.push(ev(`e${i}`, t, value, pick(['acc-1', 'acc-2', 'acc-3'])));
  }
  return events;
}

const run = (events: RuleEvent[], rules = MIXED_RULES) => setup(rules).engine.evaluateBatch(events);

describe('RuleEngine: determinism, replay, snapshot/restore', () => {
  const events = mixedStream(400);
  const baseline = run(events);

  it('exercises every rule type on the mixed stream', () => {
    expect(new Set(baseline.map((a) => a.ruleId))).toEqual(new Set(MIXED_RULES.map((r) => r.id)));
  });

  it('replaying the same input in the same order yields identical alerts and ids', () => {
    const again = run(events);
    expect(again).toEqual(baseline);
    expect(new Set(baseline.map((a) => a.alertId)).size).toBe(baseline.length);
  });

  it('produces JSON-serialisable alerts', () => {
    expect(JSON.parse(JSON.stringify(baseline))).toStrictEqual(baseline);
  });

  it('stores only JSON-safe values', () => {
    const { engine, store } = setup(MIXED_RULES);
    engine.evaluateBatch(events);
    for (const [key, value] of store.entries()) {
      expect([key, JSON.parse(JSON.stringify(value))]).toStrictEqual([key, value]);
    }
  });

  it.each([1, 57, 200, 399])('restoring a JSON snapshot after %i events continues exactly like an uninterrupted run', (k) => {
    const first = setup(MIXED_RULES);
    const before = first.engine.evaluateBatch(events.slice(0, k));
    const restoredStore = new InMemoryRuleStateStore(snapshot(first.store));
    const restored = new RuleEngine(restoredStore);
    restored.setRules(MIXED_RULES);
    const after = restored.evaluateBatch(events.slice(k));
    expect([...before, ...after]).toEqual(baseline);
  });

  it('persisting takeChanges() deltas reproduces the store, and restoring from the deltas continues identically', () => {
    const { engine, store } = setup(MIXED_RULES);
    const persisted = new Map<string, string>(); // what Postgres would hold (JSON text)
    const flush = () => {
      const { upserts, deletes } = store.takeChanges();
      for (const [k, v] of upserts) persisted.set(k, JSON.stringify(v));
      for (const k of deletes) persisted.delete(k);
    };
    const alerts: AlertCandidate[] = [];
    for (const event of events.slice(0, 250)) {
      alerts.push(...engine.evaluate(event));
      flush();
    }
    expect([...persisted.entries()].sort()).toEqual(store.entries().map(([k, v]) => [k, JSON.stringify(v)]));
    // crash: rebuild from the persisted rows only
    const restored = new RuleEngine(new InMemoryRuleStateStore([...persisted].map(([k, v]) => [k, JSON.parse(v)])));
    restored.setRules(MIXED_RULES);
    alerts.push(...restored.evaluateBatch(events.slice(250)));
    expect(alerts).toEqual(baseline);
  });

  it('restore at any point equals an uninterrupted run (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 120 }), (seed, split) => {
        const stream = mixedStream(120, seed);
        const expected = run(stream);
        const first = setup(MIXED_RULES);
        const before = first.engine.evaluateBatch(stream.slice(0, split));
        const restored = new RuleEngine(new InMemoryRuleStateStore(snapshot(first.store)));
        restored.setRules(MIXED_RULES);
        expect([...before, ...restored.evaluateBatch(stream.slice(split))]).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });
});

describe('RuleEngine: rule management', () => {
  const velocity = (extra: Parameters<typeof aggregateRule>[1] = {}) => aggregateRule({ op: '>=', limit: 3 }, { id: 'velocity', ...extra });
  const burst = (prefix: string, from: number, n: number) => Array.from({ length: n }, (_, i) => ev(`${prefix}${i}`, from + i));

  it('evaluates active rules in ascending id order, whatever the given order', () => {
    const rules = ['zeta', 'alpha', 'mid'].map((id) => thresholdRule({ field: 'amountUsd', op: '>', value: 1 }, { id }));
    const { engine } = setup(rules);
    expect(engine.evaluate(ev('e', 1, { amountUsd: 5 })).map((a) => a.ruleId)).toEqual(['alpha', 'mid', 'zeta']);
    expect(engine.getRules().map((r) => r.id)).toEqual(['alpha', 'mid', 'zeta']);
  });

  it('skips paused rules but keeps their state for when they resume', () => {
    const { engine } = setup([velocity()]);
    engine.evaluateBatch(burst('a', 0, 2));
    engine.setRules([velocity({ status: 'paused' })]);
    expect(engine.evaluateBatch(burst('b', 10, 3))).toEqual([]);
    engine.setRules([velocity()]);
    // the paused period's events were not seen; the resumed rule continues from a0, a1
    expect(triggers(engine.evaluateBatch([ev('c', 20)]))).toEqual(['c']);
  });

  it('starts a new rule version with fresh state and drops the old version state eagerly', () => {
    const { engine, store } = setup([velocity()]);
    engine.evaluateBatch(burst('a', 0, 2));
    expect([...store.keys('velocity:1:')]).toHaveLength(1);
    engine.setRules([velocity({ version: 2 })]);
    expect([...store.keys('velocity:1:')]).toEqual([]);
    expect(engine.evaluateBatch(burst('b', 10, 2))).toEqual([]); // only 2 in v2's state
    const [alert] = engine.evaluate(ev('b2', 12));
    expect(alert.ruleVersion).toBe(2);
    expect(alert.explanation.observed).toMatchObject({ count: 3 });
  });

  it('gives different alert ids to different versions of the same rule for the same event', () => {
    const v1 = setup([thresholdRule({ field: 'amountUsd', op: '>', value: 1 })]).engine.evaluate(ev('e', 1, { amountUsd: 5 }));
    const v2 = setup([thresholdRule({ field: 'amountUsd', op: '>', value: 1 }, { version: 2 })]).engine.evaluate(ev('e', 1, { amountUsd: 5 }));
    expect(v1[0].alertId).not.toBe(v2[0].alertId);
  });

  it('deletes state of removed rules, keeps the engine record and other rules', () => {
    const other = aggregateRule({ op: '>=', limit: 100 }, { id: 'other' });
    const { engine, store } = setup([velocity(), other]);
    engine.evaluateBatch(burst('a', 0, 2));
    engine.setRules([other]);
    expect([...store.keys()].sort()).toEqual([ENGINE_META_KEY, 'other:1:accountId=acc-1:agg']);
  });

  it('rejects invalid rules and duplicate ids, keeping the previous rule set', () => {
    const { engine } = setup([velocity()]);
    const bad = { ...velocity(), params: { ...velocity().params, windowMs: -1 } };
    expect(() => engine.setRules([bad])).toThrow(/invalid rule at index 0 \("velocity"\): \$\.params\.windowMs/);
    expect(() => engine.setRules([velocity(), velocity()])).toThrow(/duplicate rule id "velocity"/);
    expect(engine.getRules()).toEqual([velocity()]);
  });

  it('copies rules: later mutation by the caller has no effect', () => {
    const rule = thresholdRule({ field: 'amountUsd', op: '>', value: 100 });
    const { engine } = setup([rule]);
    rule.params.value = 1_000_000;
    expect(engine.evaluate(ev('e', 1, { amountUsd: 500 }))).toHaveLength(1);
    engine.getRules()[0].name = 'changed';
    expect(engine.getRules()[0].name).toBe('thr');
  });

  it('with no rules, returns no alerts', () => {
    expect(new RuleEngine(new InMemoryRuleStateStore()).evaluate(ev('e', 1))).toEqual([]);
  });
});

describe('RuleEngine: events, options, retention', () => {
  it('throws a TypeError for a malformed event, without touching state', () => {
    const { engine, store } = setup([aggregateRule({})]);
    for (const bad of [
      { eventId: '', eventTime: 1, tenantId: 't', accountId: 'a', value: {} },
      { eventId: 'e', eventTime: Number.NaN, tenantId: 't', accountId: 'a', value: {} },
      { eventId: 'e', eventTime: 1, tenantId: 't', accountId: '', value: {} },
      { eventId: 'e', eventTime: 1, tenantId: 't', accountId: 'a', value: null },
      { eventId: 'e', eventTime: 1, accountId: 'a', value: {} },
      { eventId: 'e', eventTime: 1, tenantId: '', accountId: 'a', value: {} },
    ]) {
      expect(() => engine.evaluate(bad as unknown as RuleEvent)).toThrow(TypeError);
    }
    expect(store.size()).toBe(0);
  });

  it('validates options', () => {
    const store = new InMemoryRuleStateStore();
    expect(() => new RuleEngine(store, { maxEventIdsPerAlert: 0 })).toThrow(RangeError);
    expect(() => new RuleEngine(store, { maxBufferedEventsPerKey: 1.5 })).toThrow(RangeError);
    expect(() => new RuleEngine(store, { stateRetentionMs: 0 })).toThrow(RangeError);
    expect(() => new RuleEngine(store, { stateRetentionMs: Number.POSITIVE_INFINITY })).not.toThrow();
  });

  it('forgets state untouched for stateRetentionMs of event time and sweeps it', () => {
    const rule = aggregateRule({ op: '>=', limit: 2, windowMs: 1_000_000 });
    const { engine, store } = setup([rule], { stateRetentionMs: 10_000 });
    engine.evaluate(ev('a1', 0, {}, 'acc-1'));
    engine.evaluate(ev('b1', 9_999, {}, 'acc-2'));
    expect(store.get('agg:1:accountId=acc-1:agg')).toBeDefined();
    engine.evaluate(ev('b2', 10_000, {}, 'acc-2')); // watermark - retention = 0 >= acc-1's t: expired and swept
    expect(store.get('agg:1:accountId=acc-1:agg')).toBeUndefined();
    expect(engine.evaluate(ev('a2', 10_001, {}, 'acc-1'))).toEqual([]); // a1 forgotten despite the 1000 s window
  });

  it('expires on read, before any sweep (output never depends on sweep timing)', () => {
    const HOUR = 3_600_000;
    const rule = aggregateRule({ op: '>=', limit: 2, windowMs: 6 * HOUR });
    const retained = setup([rule], { stateRetentionMs: 5 * HOUR }).engine;
    // a2 itself moves the watermark: a1's record is found expired on read, the sweep only runs afterwards
    expect(firingEvents(retained, [ev('a1', 0), ev('a2', 5 * HOUR + 20)])).toEqual([]);
    const unbounded = setup([rule], { stateRetentionMs: Number.POSITIVE_INFINITY }).engine;
    expect(firingEvents(unbounded, [ev('a1', 0), ev('a2', 5 * HOUR + 20)])).toEqual(['a2']);
  });

  it('sweeps at most once per hour of event time', () => {
    const HOUR = 3_600_000;
    const { engine, store } = setup([aggregateRule({})], { stateRetentionMs: 2 * HOUR });
    engine.evaluate(ev('a', 0, {}, 'acc-1'));
    engine.evaluate(ev('b', 2 * HOUR + 30 * 60_000, {}, 'acc-2')); // acc-1 expired, sweep due (2.5 h since start)
    expect([...store.keys()].sort()).toEqual([ENGINE_META_KEY, 'agg:1:accountId=acc-2:agg']);
    expect(store.get(ENGINE_META_KEY)).toEqual({ w: 2.5 * HOUR, s: 2.5 * HOUR });
  });
});

describe('RuleEngine: tenants', () => {
  /** Every rule type, as a multi-tenant service runs them: explicit groupBy gets tenantId first. */
  const SCOPED_RULES = MIXED_RULES.map(tenantScopedRule);
  const asTenant = (events: RuleEvent[], tenantId: string): RuleEvent[] => events.map((e) => ({ ...e, tenantId }));

  it('keeps state, cooldowns and alerts of two tenants apart, even with the same account and event ids', () => {
    const events = mixedStream(400);
    const acme = asTenant(events, 'acme');
    const globex = asTenant(events, 'globex');
    const alone = { acme: run(acme, SCOPED_RULES), globex: run(globex, SCOPED_RULES) };
    expect(alone.acme.length).toBeGreaterThan(0);
    // Interleaved on one engine (one partition): globex's copies are neither duplicates nor extra window entries.
    const together = run(events.flatMap((_, i) => [acme[i], globex[i]]), SCOPED_RULES);
    expect(together.filter((a) => a.tenantId === 'acme')).toEqual(alone.acme);
    expect(together.filter((a) => a.tenantId === 'globex')).toEqual(alone.globex);
    // Same rule, account and triggering event, but different tenants: different group keys and alert ids.
    const ids = new Set(together.map((a) => a.alertId));
    expect(ids.size).toBe(together.length);
    expect(together.every((a) => a.groupKey.startsWith(`tenantId=${a.tenantId}|`))).toBe(true);
  });

  it('keys the state of rules without groupBy by tenant and account', () => {
    const { engine, store } = setup([travelRule({}, { id: 'travel' })]);
    engine.evaluate(ev('e1', 1, { location: { lat: 48.85, lon: 2.35 } }, 'acc-1', 'acme'));
    engine.evaluate(ev('e1', 2, { location: { lat: 40.71, lon: -74.0 } }, 'acc-1', 'globex'));
    expect([...store.keys()].sort()).toEqual([ENGINE_META_KEY, 'travel:1:tenantId=acme|accountId=acc-1:loc', 'travel:1:tenantId=globex|accountId=acc-1:loc']);
  });

  it('shares cooldowns only within a tenant', () => {
    const rule = thresholdRule({ field: 'amountUsd', op: '>', value: 100 }, { cooldownMs: 60_000 });
    const { engine } = setup([rule]);
    const fired = firingEvents(engine, [
      ev('a1', 1, { amountUsd: 500 }, 'acc-1', 'acme'),
      ev('g1', 2, { amountUsd: 500 }, 'acc-1', 'globex'),
      ev('a2', 3, { amountUsd: 500 }, 'acc-1', 'acme'),
    ]);
    expect(fired).toEqual(['a1', 'g1']);
  });

  it('evaluates a tenant rule only for its own tenant, and a global rule for every tenant', () => {
    const tenantRule: RuleDefinition = { ...thresholdRule({ field: 'amountUsd', op: '>', value: 100 }, { id: 'acme.large' }), tenantId: 'acme' };
    const globalRule = aggregateRule({ op: '>=', limit: 1 }, { id: 'every' });
    const { engine, store } = setup([tenantRule, globalRule].map(tenantScopedRule));
    const byTenant = (tenantId: string) => engine.evaluate(ev(`${tenantId}-1`, 1, { amountUsd: 500 }, 'acc-1', tenantId)).map((a) => a.ruleId);
    expect(byTenant('acme')).toEqual(['acme.large', 'every']);
    expect(byTenant('globex')).toEqual(['every']);
    expect(byTenant('initech')).toEqual(['every']);
    // Another tenant's event never touches a tenant rule's state.
    const stateful = setup([{ ...aggregateRule({}, { id: 'acme.velocity' }), tenantId: 'acme' }].map(tenantScopedRule));
    stateful.engine.evaluate(ev('g', 1, {}, 'acc-1', 'globex'));
    expect([...stateful.store.keys()]).toEqual([ENGINE_META_KEY]);
    expect(store.size()).toBeGreaterThan(1);
  });

  it('keeps the runtime tenantId through setRules and getRules, and rejects an empty one', () => {
    const { engine } = setup([{ ...listRule(), tenantId: 'acme' }, thresholdRule({ field: 'amountUsd', op: '>', value: 1 })]);
    expect(engine.getRules().map((r) => [r.id, r.tenantId])).toEqual([['list', 'acme'], ['thr', undefined]]);
    expect(() => engine.setRules([{ ...listRule(), tenantId: '' }])).toThrow(/tenantId/);
    expect(engine.getRules()).toHaveLength(2);
  });

  describe('rule identity: ids are unique per owner, so the engine keys everything by id and owner', () => {
    /** Not tenant-scoped on purpose: even a groupBy without tenantId cannot make same-id rules share state. */
    const byMerchant = (extra: Partial<RuleDefinition> = {}): RuleDefinition =>
      ({ ...aggregateRule({ groupBy: ['merchantId'], op: '>=', limit: 2 }, { id: 'velocity', cooldownMs: 60_000 }), ...extra }) as RuleDefinition;
    const pay = (eventId: string, t: number, tenantId: string) => ev(eventId, t, { merchantId: 'm-1' }, 'acc-1', tenantId);

    it('runs two tenants\' rules with the same id side by side: own state, own alerts, ruleId as in the API', () => {
      const { engine, store } = setup([byMerchant({ tenantId: 'globex' }), byMerchant({ tenantId: 'acme' })]);
      expect(engine.getRules().map((r) => [r.id, r.tenantId])).toEqual([['velocity', 'acme'], ['velocity', 'globex']]);
      const alerts = engine.evaluateBatch([pay('e1', 1, 'acme'), pay('e1', 1, 'globex'), pay('e2', 2, 'globex'), pay('e2', 2, 'acme')]);
      // Each tenant's rule counted only its own tenant's two events (the same event ids are not duplicates).
      expect(alerts.map((a) => [a.ruleId, a.ruleTenantId, a.tenantId, a.eventIds])).toEqual([
        ['velocity', 'globex', 'globex', ['e1', 'e2']],
        ['velocity', 'acme', 'acme', ['e1', 'e2']],
      ]);
      expect(alerts[0].alertId).not.toBe(alerts[1].alertId);
      expect(alerts[1].alertId).toBe(computeAlertId('velocity@acme', 1, 'merchantId=m-1', 'e2'));
      expect([...store.keys()].sort()).toEqual([ENGINE_META_KEY, 'velocity@acme:1:merchantId=m-1:agg', 'velocity@acme:1:merchantId=m-1:cooldown',
        'velocity@globex:1:merchantId=m-1:agg', 'velocity@globex:1:merchantId=m-1:cooldown']);
    });

    it('drops only the changed tenant\'s old state when one of two same-id rules gets a new version', () => {
      const { engine, store } = setup([byMerchant({ tenantId: 'acme' }), byMerchant({ tenantId: 'globex' })]);
      engine.evaluateBatch([pay('e1', 1, 'acme'), pay('e1', 1, 'globex')]);
      engine.setRules([byMerchant({ tenantId: 'acme', version: 2 }), byMerchant({ tenantId: 'globex' })]);
      expect([...store.keys()].sort()).toEqual([ENGINE_META_KEY, 'velocity@globex:1:merchantId=m-1:agg']);
      // globex continues from e1; acme's v2 starts afresh.
      expect(engine.evaluateBatch([pay('e2', 2, 'acme'), pay('e2', 2, 'globex')]).map((a) => [a.tenantId, a.ruleVersion])).toEqual([['globex', 1]]);
    });

    it('keeps a global rule and a tenant rule with the same id apart: state, cooldown and alert id', () => {
      const { engine, store } = setup([byMerchant({ tenantId: 'acme' }), byMerchant()]);
      expect(engine.getRules().map((r) => r.tenantId)).toEqual([undefined, 'acme']); // the global rule runs first
      const acme = engine.evaluateBatch([pay('a1', 1, 'acme'), pay('a2', 2, 'acme')]);
      expect(acme.map((a) => [a.ruleId, a.ruleTenantId])).toEqual([['velocity', undefined], ['velocity', 'acme']]);
      expect(acme[0]).not.toHaveProperty('ruleTenantId');
      // The global rule's alert id is the one it always had; the tenant rule's differs although everything else is equal.
      expect(acme[0].alertId).toBe(computeAlertId('velocity', 1, 'merchantId=m-1', 'a2'));
      expect(acme[1].alertId).not.toBe(acme[0].alertId);
      // The global rule (unscoped here) has seen a1, a2; globex's g1 makes 3 — but the global cooldown holds. The
      // acme rule never sees globex's events.
      expect(engine.evaluate(pay('g1', 3, 'globex'))).toEqual([]);
      expect([...store.keys()].filter((k) => k.endsWith(':cooldown')).sort()).toEqual(['velocity:1:merchantId=m-1:cooldown', 'velocity@acme:1:merchantId=m-1:cooldown']);
      // Removing the tenant rule leaves the global rule's state alone.
      engine.setRules([byMerchant()]);
      expect([...store.keys()].sort()).toEqual([ENGINE_META_KEY, 'velocity:1:merchantId=m-1:agg', 'velocity:1:merchantId=m-1:cooldown']);
    });

    it('refuses the same id twice for one owner only', () => {
      const { engine } = setup([]);
      expect(() => engine.setRules([byMerchant({ tenantId: 'acme' }), byMerchant({ tenantId: 'acme', version: 2 })])).toThrow(/duplicate rule id "velocity" for tenant "acme"/);
      expect(() => engine.setRules([byMerchant(), byMerchant({ version: 2 })])).toThrow(/duplicate rule id "velocity"$/);
      expect(engine.getRules()).toEqual([]);
    });
  });

  it('matches filters on tenantId against the event tenant, not a same-named field of value', () => {
    const { engine } = setup([thresholdRule({ field: 'tenantId', op: '==', value: 'acme' })]);
    expect(engine.evaluate(ev('e1', 1, { tenantId: 'acme' }, 'acc-1', 'globex'))).toEqual([]);
    expect(engine.evaluate(ev('e2', 1, {}, 'acc-1', 'acme'))).toHaveLength(1);
  });
});

describe('DEFAULT_RULES', () => {
  it('flags large amounts and bursts, with the velocity cooldown', () => {
    const { engine } = setup(DEFAULT_RULES);
    const burst = Array.from({ length: 8 }, (_, i) => ev(`v${i}`, 1_000 + i * 1_000, { amountUsd: 10 }));
    const alerts = engine.evaluateBatch([...burst, ev('big', 20_000, { amountUsd: 10_000.5 }), ev('ok', 21_000, { amountUsd: 10_000 })]);
    expect(alerts.map((a) => [a.ruleId, a.eventIds[a.eventIds.length - 1], a.severity])).toEqual([
      ['velocity-1m', 'v5', 'medium'],
      ['large-amount', 'big', 'high'],
    ]);
    expect(alerts[0].explanation.summary).toBe('6 transactions in 60s for accountId=acc-1 (limit > 5)');
  });

  it('is frozen', () => {
    expect(Object.isFrozen(DEFAULT_RULES[0].params)).toBe(true);
  });
});
