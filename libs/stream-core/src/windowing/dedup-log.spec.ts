import fc from 'fast-check';
import { DEDUP_ROW_PREFIX, DedupLog } from './dedup-log';
import { InMemoryWindowStateStore } from './window-state-store';

const rowKeys = (store: InMemoryWindowStateStore) => store.keys(DEDUP_ROW_PREFIX);

describe('DedupLog', () => {
  it('keeps a key while its expiry is above the watermark and forgets it when the watermark reaches it', () => {
    const log = new DedupLog(new InMemoryWindowStateStore(), -Infinity);
    log.add('a', 100, 0);
    log.seal();
    log.expire(99);
    expect(log.has('a')).toBe(true);
    log.expire(100);
    expect(log.has('a')).toBe(false);
  });

  it('writes one row per sealed batch, once, and deletes it when its last key expires', () => {
    const store = new InMemoryWindowStateStore();
    const log = new DedupLog(store, -Infinity);
    for (let i = 0; i < 500; i++) log.add(`e${i}`, i < 250 ? 100 : 200, 7 + i);
    expect(store.takeChanges().upserts).toEqual([]); // nothing persisted before the seal
    log.seal();
    const { upserts } = store.takeChanges();
    expect(upserts.map(([key]) => key)).toEqual(['dd/7']);
    expect((upserts[0][1] as { r: unknown }).r).toEqual([[100, 250], [200, 250]]);

    log.expire(150); // half the row expired: forgotten in memory, the row is not rewritten
    expect(log.size).toBe(250);
    expect(store.takeChanges()).toEqual({ upserts: [], deletes: [] });

    log.expire(200);
    expect(log.size).toBe(0);
    expect(store.takeChanges()).toEqual({ upserts: [], deletes: ['dd/7'] });
  });

  it('forgets keys of the unsealed batch when a later record of the same batch moves the watermark past them', () => {
    const store = new InMemoryWindowStateStore();
    const log = new DedupLog(store, -Infinity);
    log.add('early', 10, 0);
    log.add('later', 50, 1);
    log.expire(10);
    expect([log.has('early'), log.has('later')]).toEqual([false, true]);
    log.seal();
    expect(store.get(`${DEDUP_ROW_PREFIX}0`)).toEqual({ k: ['later'], r: [[50, 1]] });
  });

  it('does not forget a key re-added after it expired when the older row it was in expires further', () => {
    const log = new DedupLog(new InMemoryWindowStateStore(), -Infinity);
    log.add('x', 10, 0);
    log.add('y', 30, 1);
    log.seal();
    log.expire(10);
    log.add('x', 40, 2); // x expired, so it is new again
    log.seal();
    log.expire(30); // row 0 finishes (y); x of row 2 must stay
    expect(log.has('x')).toBe(true);
    log.expire(40);
    expect(log.has('x')).toBe(false);
  });

  it('a log restored from its store at any point answers exactly like the live one (property)', () => {
    const step = fc.oneof(
      fc.record({ op: fc.constant('add' as const), key: fc.integer({ min: 0, max: 15 }), ttl: fc.integer({ min: 1, max: 30 }) }),
      fc.record({ op: fc.constant('advance' as const), by: fc.integer({ min: 0, max: 12 }) }),
      fc.record({ op: fc.constant('seal' as const) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), fc.nat(), (steps, cutSeed) => {
        const cut = cutSeed % (steps.length + 1);
        let store = new InMemoryWindowStateStore();
        let log = new DedupLog(store, -Infinity);
        const live = new DedupLog(new InMemoryWindowStateStore(), -Infinity);
        const reference = new Map<string, number>(); // key -> expiry, the rule itself
        let watermark = 0;
        let arrival = 0;
        steps.forEach((s, i) => {
          if (i === cut) {
            log.seal();
            live.seal();
            store = new InMemoryWindowStateStore(JSON.parse(JSON.stringify(store.entries())) as Array<[string, unknown]>);
            log = new DedupLog(store, watermark);
          }
          if (s.op === 'add') {
            const key = `k${s.key}`;
            if (reference.has(key)) {
              expect([log.has(key), live.has(key)]).toEqual([true, true]);
              return;
            }
            expect([log.has(key), live.has(key)]).toEqual([false, false]);
            reference.set(key, watermark + s.ttl);
            log.add(key, watermark + s.ttl, arrival);
            live.add(key, watermark + s.ttl, arrival);
            arrival += 1;
          } else if (s.op === 'advance') {
            watermark += s.by;
            for (const [key, expiry] of reference) if (expiry <= watermark) reference.delete(key);
            log.expire(watermark);
            live.expire(watermark);
          } else {
            log.seal();
            live.seal();
          }
          expect(log.size).toBe(reference.size);
          expect(live.size).toBe(reference.size);
        });
        // Rows left in the store are exactly those holding a key that is still alive.
        log.seal();
        for (const key of rowKeys(store)) {
          const row = store.get<{ k: string[]; r: Array<[number, number]> }>(key);
          expect(row?.r.some(([expiry]) => expiry > watermark)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
