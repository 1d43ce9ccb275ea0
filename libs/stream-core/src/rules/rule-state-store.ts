/**
 * Key/value storage for all per-key rule state. Values are plain JSON (objects, arrays, strings, finite numbers,
 * booleans, null) so a store can be persisted as JSON (e.g. JSONB rows written in the same Postgres transaction as
 * the Kafka offsets) and restored after a crash.
 *
 * The engine treats values as immutable: it never mutates an object it got from `get`, it `put`s a new one.
 * Keys are `${ruleKey}:${ruleVersion}:${groupKey}:${kind}` (ruleKey: the rule id, or `<id>@<tenant>` for a tenant
 * rule) plus the engine's own `_engine:meta`.
 */
export interface RuleStateStore {
  get<T = unknown>(key: string): T | undefined;
  put(key: string, value: unknown): void;
  delete(key: string): void;
  /** Keys starting with `prefix` (all keys without one). Must tolerate `delete` while the caller iterates. */
  keys(prefix?: string): Iterable<string>;
}

/** Net changes since the last `takeChanges()`: the last write per key wins; keys sorted for determinism. */
export interface RuleStateChanges {
  upserts: Array<[string, unknown]>;
  deletes: string[];
}

/**
 * Map-backed {@link RuleStateStore} that tracks changes, so the caller can persist deltas:
 * ```ts
 * const alerts = engine.evaluateBatch(events);
 * const { upserts, deletes } = store.takeChanges(); // write these with the offsets, in one transaction
 * ```
 * Restore with `new InMemoryRuleStateStore(rowsFromPostgres)`; the initial entries are not reported as changes.
 */
export class InMemoryRuleStateStore implements RuleStateStore {
  private readonly data = new Map<string, unknown>();
  /** key -> true (upserted) / false (deleted) since the last takeChanges(). */
  private readonly dirty = new Map<string, boolean>();

  constructor(initial?: Iterable<[string, unknown]>) {
    for (const [key, value] of initial ?? []) this.data.set(key, value);
  }

  get<T = unknown>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  put(key: string, value: unknown): void {
    if (value === undefined) throw new TypeError(`state value for "${key}" must not be undefined (use delete)`);
    this.data.set(key, value);
    this.dirty.set(key, true);
  }

  delete(key: string): void {
    // Deleting a key that only existed since the last takeChanges() still reports a delete: harmless for
    // the persister (DELETE of a missing row) and simpler than tracking what was persisted.
    if (this.data.delete(key) || this.dirty.has(key)) this.dirty.set(key, false);
  }

  keys(prefix?: string): Iterable<string> {
    // A snapshot, so callers may delete while iterating.
    const all = [...this.data.keys()];
    return prefix === undefined ? all : all.filter((k) => k.startsWith(prefix));
  }

  size(): number {
    return this.data.size;
  }

  /** All entries, sorted by key: handy for snapshots and tests. */
  entries(): Array<[string, unknown]> {
    return [...this.data.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  takeChanges(): RuleStateChanges {
    const keys = [...this.dirty.keys()].sort();
    const upserts: Array<[string, unknown]> = [];
    const deletes: string[] = [];
    for (const key of keys) {
      if (this.dirty.get(key)) upserts.push([key, this.data.get(key)]);
      else deletes.push(key);
    }
    this.dirty.clear();
    return { upserts, deletes };
  }
}
