/**
 * Operator state as a flat key/value map of JSON-serialisable values. The operator keeps *all* state that
 * affects results here (watermark, windows, dedup set), so persisting the store next to the Kafka offsets in
 * one Postgres transaction makes a restart exactly-once with respect to window results.
 */
export interface WindowStateStore {
  get<T = unknown>(key: string): T | undefined;
  /** Values must survive JSON.stringify/parse: no Map, Set, Infinity, NaN, BigInt or undefined inside. */
  put(key: string, value: unknown): void;
  delete(key: string): void;
  keys(prefix?: string): Iterable<string>;
}

/**
 * In-memory store that records what changed since the last `takeChanges()`, so the caller can persist only
 * deltas. A key put and then deleted within one delta is reported as a delete (deleting an unknown row is a
 * no-op for the database). Values are held by reference and read when changes are taken, so a value may be
 * updated in place as long as it is `put` again (which marks it changed); snapshots must copy (JSON).
 */
export class InMemoryWindowStateStore implements WindowStateStore {
  private readonly data = new Map<string, unknown>();
  private readonly changed = new Map<string, 'upsert' | 'delete'>();

  constructor(initial?: Iterable<[string, unknown]>) {
    for (const [key, value] of initial ?? []) this.data.set(key, value);
  }

  get<T = unknown>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  put(key: string, value: unknown): void {
    this.data.set(key, value);
    this.changed.set(key, 'upsert');
  }

  delete(key: string): void {
    if (this.data.delete(key) || this.changed.has(key)) this.changed.set(key, 'delete');
  }

  /** Snapshot of matching keys, so callers may delete while iterating. */
  keys(prefix = ''): string[] {
    const keys: string[] = [];
    for (const key of this.data.keys()) if (key.startsWith(prefix)) keys.push(key);
    return keys;
  }

  /** Changes since the previous call, upserts carrying the current values; resets the change log. */
  takeChanges(): { upserts: Array<[string, unknown]>; deletes: string[] } {
    const upserts: Array<[string, unknown]> = [];
    const deletes: string[] = [];
    for (const [key, kind] of this.changed) {
      if (kind === 'upsert') upserts.push([key, this.data.get(key)]);
      else deletes.push(key);
    }
    this.changed.clear();
    return { upserts, deletes };
  }

  /** Full snapshot of all entries (e.g. for an initial persist or a test restore). */
  entries(): Array<[string, unknown]> {
    return [...this.data.entries()];
  }

  size(): number {
    return this.data.size;
  }
}
