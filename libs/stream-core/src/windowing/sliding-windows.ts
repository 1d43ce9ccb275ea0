/**
 * Sliding (per-event lookback) windows, as in Kafka Streams `SlidingWindows` / a SQL `RANGE` frame: every
 * accepted record at t defines the window [t - size, t] (both ends inclusive; reported as `[t - size, t + 1)`)
 * over all records of its group with event time in that range, including records that arrive later while
 * the window is still open. Records sharing an event time share one window.
 *
 * Unlike the other kinds this must buffer records (their extracted field values, not the events), because
 * windows overlap arbitrarily. A record is kept until no open or future window can contain it, i.e. until
 * watermark >= t + size + 1 + allowedLateness, so the buffer is bounded by the records of one group within
 * `size + allowedLateness + maxOutOfOrderness` of event time. Results are recomputed from the buffer.
 *
 * Lateness: the record's own window is late when watermark >= t + 1 + allowedLateness. A record whose own
 * window is late is still added to the open windows of later records that contain it (like a hopping record
 * that is late for some windows only); it is TOO_LATE only if no open window can take it.
 */
import type { AggregationPlan, RecordInputs } from './aggregators';
import { cleanupTime, isWindowLate, slidingWindowOf, type TimeWindow } from './window-assigner';
import type { WindowDefinition } from './window-definition';
import { BaseWindowKind, type AddOutcome, type KindContext, type PreparedRecord, type WindowKind } from './window-kind';
import type { WindowStateStore } from './window-state-store';

type BufferedRecord = [eventTime: number, arrival: number, inputs: RecordInputs];
type OpenWindow = [eventTime: number, version: number];

interface SlidingGroupState {
  k: string;
  g: Record<string, unknown>;
  r: BufferedRecord[]; // sorted by (eventTime, arrival)
  w: OpenWindow[]; // sorted by eventTime
}

export class SlidingWindows extends BaseWindowKind implements WindowKind {
  private readonly sizeMs: number;

  constructor(definition: WindowDefinition, plan: AggregationPlan) {
    super('l', definition, plan);
    if (definition.window.type !== 'sliding') throw new Error(`SlidingWindows cannot run ${definition.window.type} windows`);
    this.sizeMs = definition.window.sizeMs;
  }

  add(record: PreparedRecord, ctx: KindContext): AddOutcome {
    const t = record.eventTime;
    const key = this.keyOf(record.groupKey);
    const state = ctx.store.get<SlidingGroupState>(key) ?? { k: record.groupKey, g: record.group, r: [], w: [] };
    const ownLate = isWindowLate(t + 1, this.lateness, ctx.watermark);
    const contains = ([wt]: OpenWindow) => wt >= t && wt - this.sizeMs <= t;
    if (ownLate && !state.w.some(contains)) return { accepted: false, window: slidingWindowOf(t, this.sizeMs) };

    const records = [...state.r];
    records.splice(upperBound(records, (r) => r[0] <= t), 0, [t, record.arrival, record.inputs]);
    let windows = state.w;
    if (!ownLate && !windows.some(([wt]) => wt === t)) {
      windows = [...windows];
      windows.splice(upperBound(windows, ([wt]) => wt < t), 0, [t, 0]);
    }
    const next: SlidingGroupState = { ...state, r: records, w: windows };
    if (this.updates) {
      next.w = windows.map((w): OpenWindow => {
        if (!contains(w)) return w;
        ctx.emit(this.windowResult(next, w[0], w[1] + 1, false));
        return [w[0], w[1] + 1];
      });
    }
    ctx.store.put(key, next);
    ctx.schedule(key, this.nextTimerOf(next) as number);
    return { accepted: true, retainUntil: this.evictionTime(t), pinned: false };
  }

  onTimer(stateKey: string, ctx: KindContext): void {
    const state = ctx.store.get<SlidingGroupState>(stateKey);
    if (!state) return;
    const open = state.w.filter(([wt, version]) => {
      if (!isWindowLate(wt + 1, this.lateness, ctx.watermark)) return true;
      ctx.emit(this.windowResult(state, wt, version + 1, true));
      return false;
    });
    // Evict only after emitting: a record at wt - size is evicted at the same watermark its last window closes.
    const kept = state.r.filter(([rt]) => ctx.watermark < this.evictionTime(rt));
    if (open.length === 0 && kept.length === 0) {
      ctx.store.delete(stateKey);
      return;
    }
    const next = { ...state, r: kept, w: open };
    if (open.length !== state.w.length || kept.length !== state.r.length) ctx.store.put(stateKey, next);
    ctx.schedule(stateKey, this.nextTimerOf(next) as number);
  }

  nextTimer(stateKey: string, store: WindowStateStore): number | undefined {
    const state = store.get<SlidingGroupState>(stateKey);
    return state && this.nextTimerOf(state);
  }

  openWindows(stateKey: string, store: WindowStateStore): number {
    return store.get<SlidingGroupState>(stateKey)?.w.length ?? 0;
  }

  /** Watermark at which the last window that could contain a record at `t` (the one at t + size) closes. */
  private evictionTime(t: number): number {
    return cleanupTime(t + this.sizeMs + 1, this.lateness);
  }

  private nextTimerOf(state: SlidingGroupState): number | undefined {
    const times = state.w.map(([wt]) => cleanupTime(wt + 1, this.lateness));
    if (state.r.length > 0) times.push(this.evictionTime(state.r[0][0]));
    return times.length === 0 ? undefined : Math.min(...times);
  }

  private windowResult(state: SlidingGroupState, wt: number, version: number, final: boolean) {
    const window: TimeWindow = slidingWindowOf(wt, this.sizeMs);
    let accs = this.plan.initialize();
    let count = 0;
    for (const [rt, arrival, inputs] of state.r) {
      if (rt < window.start || rt > wt) continue;
      accs = this.plan.add(accs, inputs, rt, arrival);
      count += 1;
    }
    return this.result(state.k, state.g, window, accs, count, version, final);
  }
}

/** Index of the first element for which `isBefore` is false (elements satisfying it form a prefix). */
function upperBound<T>(items: readonly T[], isBefore: (item: T) => boolean): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (isBefore(items[mid])) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
