/**
 * Tumbling and hopping windows (Kafka Streams `TimeWindows`): one state entry per (group, window start),
 * holding the accumulators — never the raw records — so state is O(open windows × aggregations).
 */
import type { Accumulators, AggregationPlan } from './aggregators';
import { assignTimeWindows, cleanupTime, isWindowLate } from './window-assigner';
import type { WindowDefinition } from './window-definition';
import { BaseWindowKind, type AddOutcome, type KindContext, type PreparedRecord, type WindowKind } from './window-kind';
import type { WindowStateStore } from './window-state-store';

interface FixedWindowState {
  k: string; // group key
  g: Record<string, unknown>; // group
  s: number; // start
  e: number; // end
  a: Accumulators;
  n: number; // records
  v: number; // results emitted so far
}

export class FixedWindows extends BaseWindowKind implements WindowKind {
  private readonly sizeMs: number;
  private readonly advanceMs: number;
  private readonly offsetMs: number;

  constructor(definition: WindowDefinition, plan: AggregationPlan) {
    super('w', definition, plan);
    const spec = definition.window;
    if (spec.type !== 'tumbling' && spec.type !== 'hopping') throw new Error(`FixedWindows cannot run ${spec.type} windows`);
    this.sizeMs = spec.sizeMs;
    this.advanceMs = spec.type === 'hopping' ? spec.advanceMs : spec.sizeMs;
    this.offsetMs = spec.offsetMs ?? 0;
  }

  /** Adds the record to each of its windows that is not late; late only if all of them are. */
  add(record: PreparedRecord, ctx: KindContext): AddOutcome {
    const windows = assignTimeWindows(record.eventTime, this.sizeMs, this.advanceMs, this.offsetMs);
    const open = windows.filter((w) => !isWindowLate(w.end, this.lateness, ctx.watermark));
    if (open.length === 0) return { accepted: false, window: windows[windows.length - 1] };

    for (const window of open) {
      const key = `${this.keyOf(record.groupKey)}/${window.start}`;
      // Updated in place (the store reads values when changes are taken): a window lives for its whole size,
      // long enough to reach V8's old generation, and a copy per event made every one of them old garbage.
      const state: FixedWindowState = ctx.store.get<FixedWindowState>(key)
        ?? { k: record.groupKey, g: record.group, s: window.start, e: window.end, a: this.plan.initialize(), n: 0, v: 0 };
      state.a = this.plan.add(state.a, record.inputs, record.eventTime, record.arrival);
      state.n += 1;
      if (this.updates) {
        state.v += 1;
        ctx.emit(this.result(state.k, state.g, window, state.a, state.n, state.v, false));
      }
      ctx.store.put(key, state);
      ctx.schedule(key, cleanupTime(window.end, this.lateness));
    }
    return { accepted: true, retainUntil: cleanupTime(open[open.length - 1].end, this.lateness), pinned: false };
  }

  onTimer(stateKey: string, ctx: KindContext): void {
    const state = ctx.store.get<FixedWindowState>(stateKey);
    if (!state) return;
    if (!isWindowLate(state.e, this.lateness, ctx.watermark)) {
      ctx.schedule(stateKey, cleanupTime(state.e, this.lateness));
      return;
    }
    ctx.emit(this.result(state.k, state.g, { start: state.s, end: state.e }, state.a, state.n, state.v + 1, true));
    ctx.store.delete(stateKey);
  }

  nextTimer(stateKey: string, store: WindowStateStore): number | undefined {
    const state = store.get<FixedWindowState>(stateKey);
    return state && cleanupTime(state.e, this.lateness);
  }

  openWindows(stateKey: string, store: WindowStateStore): number {
    return store.get(stateKey) === undefined ? 0 : 1;
  }
}
