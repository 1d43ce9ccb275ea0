import { InMemoryRuleStateStore } from './rule-state-store';

describe('InMemoryRuleStateStore', () => {
  it('gets, puts, deletes and lists keys by prefix', () => {
    const store = new InMemoryRuleStateStore([['a:1:x', { t: 1 }]]);
    store.put('a:1:y', { t: 2 });
    store.put('b:1:x', { t: 3 });
    expect(store.get('a:1:x')).toEqual({ t: 1 });
    expect([...store.keys('a:')].sort()).toEqual(['a:1:x', 'a:1:y']);
    expect([...store.keys()].length).toBe(3);
    store.delete('a:1:x');
    expect(store.get('a:1:x')).toBeUndefined();
    expect(store.size()).toBe(2);
  });

  it('lets callers delete while iterating keys', () => {
    const store = new InMemoryRuleStateStore([['a', 1], ['b', 2], ['c', 3]]);
    for (const key of store.keys()) store.delete(key);
    expect(store.size()).toBe(0);
  });

  it('reports net changes since the last takeChanges, sorted, without the initial entries', () => {
    const store = new InMemoryRuleStateStore([['old', 1], ['gone', 2]]);
    store.put('z', 1);
    store.put('a', 1);
    store.put('a', 2); // last write wins
    store.put('tmp', 1);
    store.delete('tmp'); // put then delete: a delete
    store.delete('gone');
    store.delete('never-existed'); // not a change
    expect(store.takeChanges()).toEqual({ upserts: [['a', 2], ['z', 1]], deletes: ['gone', 'tmp'] });
    expect(store.takeChanges()).toEqual({ upserts: [], deletes: [] });
    store.delete('a');
    store.put('a', 3); // delete then put: an upsert
    expect(store.takeChanges()).toEqual({ upserts: [['a', 3]], deletes: [] });
  });

  it('refuses undefined values (not JSON)', () => {
    expect(() => new InMemoryRuleStateStore().put('k', undefined)).toThrow(TypeError);
  });

  it('lists entries sorted by key', () => {
    const store = new InMemoryRuleStateStore([['b', 2], ['a', 1]]);
    expect(store.entries()).toEqual([['a', 1], ['b', 2]]);
  });
});
