import { TimerQueue } from './timer-queue';
import type { WindowStateStore } from './window-state-store';

/** Store-key prefix of dedup rows: `dd/<arrival of the row's first record>`. */
export const DEDUP_ROW_PREFIX = 'dd/';

/**
 * A persisted dedup row: the keys of one batch sorted by expiry, and the expiries as runs
 * (`[expiresAt, how many consecutive keys share it]`): the records of a batch mostly close with the same windows.
 */
interface DedupRow {
  k: string[];
  r: Array<[expiresAt: number, count: number]>;
}

/** A row in memory: the persisted value plus how far expiry has got through it. */
interface LiveRow {
  value: DedupRow;
  /** Index of the first run not yet expired, and of its first key. */
  run: number;
  key: number;
}

/**
 * The unpinned part of the window operator's dedup set: "key K is a duplicate until the watermark reaches
 * expiresAt(K)", exactly, but stored one row per batch instead of one row per event.
 *
 * Why: one Postgres row (and a Map entry, a timer and an array) per event made dedup the largest cost of the
 * aggregate service — at 5,000 events/s, 5,000 row inserts and later 5,000 deletes a second per stage, and
 * about 240 bytes of heap per event held until its windows closed. Here a batch of N events costs one row
 * (written once, when the batch is sealed; deleted once every key in it has expired), one timer, and per
 * event a Map entry plus a slot in the row.
 *
 * Exactness: a key is alive iff its expiry is above the watermark — in the live set (entries are forgotten
 * the moment the watermark passes them, in `expire`), and after a restore (rows are filtered by the restored
 * watermark). Partly expired rows are never rewritten; their expired keys are skipped when restored.
 * Callers must `seal()` before taking the store's changes: keys added since the last seal live only in memory.
 */
export class DedupLog {
  private readonly expiresAt = new Map<string, number>();
  private readonly rows = new Map<string, LiveRow>();
  private readonly timers = new TimerQueue();
  /** Keys added since the last seal (not yet in the store), with their expiries. */
  private open: { id: number; keys: string[]; expiries: number[]; earliest: number } | undefined;

  constructor(
    private readonly store: WindowStateStore,
    watermark: number,
  ) {
    for (const rowKey of store.keys(DEDUP_ROW_PREFIX)) {
      const row: LiveRow = { value: store.get<DedupRow>(rowKey) as DedupRow, run: 0, key: 0 };
      this.rows.set(rowKey, row);
      let index = 0;
      for (const [expiresAt, count] of row.value.r) {
        if (expiresAt > watermark) for (let i = index; i < index + count; i++) this.expiresAt.set(row.value.k[i], expiresAt);
        index += count;
      }
      this.advance(rowKey, row, watermark);
    }
  }

  get size(): number {
    return this.expiresAt.size;
  }

  has(key: string): boolean {
    return this.expiresAt.has(key);
  }

  /**
   * Remembers `key` until the watermark reaches `expiresAt` (which must be above the current watermark).
   * `arrival` (the operator's persisted arrival counter) names the row, so row keys never repeat.
   */
  add(key: string, expiresAt: number, arrival: number): void {
    this.expiresAt.set(key, expiresAt);
    this.open ??= { id: arrival, keys: [], expiries: [], earliest: Infinity };
    this.open.keys.push(key);
    this.open.expiries.push(expiresAt);
    this.open.earliest = Math.min(this.open.earliest, expiresAt);
  }

  /** Writes the keys added since the last seal as one row (sorted by expiry). */
  seal(): void {
    const open = this.open;
    if (!open) return;
    this.open = undefined;
    const order = open.keys.map((_, i) => i).sort((a, b) => open.expiries[a] - open.expiries[b] || a - b);
    const value: DedupRow = { k: order.map((i) => open.keys[i]), r: [] };
    for (const i of order) {
      const last = value.r[value.r.length - 1];
      if (last && last[0] === open.expiries[i]) last[1] += 1;
      else value.r.push([open.expiries[i], 1]);
    }
    const rowKey = DEDUP_ROW_PREFIX + open.id;
    this.store.put(rowKey, value);
    this.rows.set(rowKey, { value, run: 0, key: 0 });
    this.timers.schedule(rowKey, value.r[0][0]);
  }

  /** Forgets every key whose expiry is at or below `watermark`; deletes rows with nothing left alive. */
  expire(watermark: number): void {
    for (let timer = this.timers.popDue(watermark); timer; timer = this.timers.popDue(watermark)) {
      const row = this.rows.get(timer.key);
      if (row) this.advance(timer.key, row, watermark);
    }
    const open = this.open;
    if (open && open.earliest <= watermark) {
      // Rare: a later record of the same batch moved the watermark past an earlier record's expiry.
      const alive = open.keys.map((_, i) => i).filter((i) => open.expiries[i] > watermark || (this.forget(open.keys[i], open.expiries[i]), false));
      open.keys = alive.map((i) => open.keys[i]);
      open.expiries = alive.map((i) => open.expiries[i]);
      open.earliest = open.expiries.reduce((a, b) => Math.min(a, b), Infinity);
      if (open.keys.length === 0) this.open = undefined;
    }
  }

  /** Forgets the row's keys that expired by `watermark`, then deletes the row or waits for its next expiry. */
  private advance(rowKey: string, row: LiveRow, watermark: number): void {
    const { k, r } = row.value;
    while (row.run < r.length && r[row.run][0] <= watermark) {
      const [expiresAt, count] = r[row.run];
      for (let i = row.key; i < row.key + count; i++) this.forget(k[i], expiresAt);
      row.key += count;
      row.run += 1;
    }
    if (row.run === r.length) {
      this.rows.delete(rowKey);
      this.store.delete(rowKey);
    } else {
      this.timers.schedule(rowKey, r[row.run][0]);
    }
  }

  /** A key re-added after it expired has a later expiry and belongs to a newer row: leave that one alone. */
  private forget(key: string, expiresAt: number): void {
    if (this.expiresAt.get(key) === expiresAt) this.expiresAt.delete(key);
  }
}
