/**
 * Count windows (Flink `countWindow(n)` per key): every `size` accepted records of a group, in arrival order
 * after dedup, form one window that completes as soon as it holds `size` records. Event time plays no part:
 * records are never TOO_LATE for a count window, `allowedLatenessMs` is ignored, and a partial window stays
 * open (and in state) until it fills up. The reported range is [earliest event time, latest event time + 1).
 *
 * The window keeps the dedup keys of its records (at most `size - 1` of them) to pin their dedup entries until
 * it completes; afterwards dedup falls back to time-based retention (`dedupHorizonMs` past the event time).
 */
import type { Accumulators, AggregationPlan } from './aggregators';
import type { WindowDefinition } from './window-definition';
import { BaseWindowKind, type AddOutcome, type KindContext, type PreparedRecord, type WindowKind } from './window-kind';
import type { WindowStateStore } from './window-state-store';

interface CountWindowState {
  k: string;
  g: Record<string, unknown>;
  a: Accumulators;
  n: number;
  v: number;
  s: number; // earliest event time
  e: number; // latest event time
  /** Dedup keys (eventIds unless the caller set `dedupKey`) of the records, pinned until the window completes. */
  ids: string[];
}

export class CountWindows extends BaseWindowKind implements WindowKind {
  private readonly size: number;

  constructor(definition: WindowDefinition, plan: AggregationPlan) {
    super('c', definition, plan);
    if (definition.window.type !== 'count') throw new Error(`CountWindows cannot run ${definition.window.type} windows`);
    this.size = definition.window.size;
  }

  add(record: PreparedRecord, ctx: KindContext): AddOutcome {
    const key = this.keyOf(record.groupKey);
    const t = record.eventTime;
    const previous = ctx.store.get<CountWindowState>(key);
    const state: CountWindowState = previous
      ? { ...previous, s: Math.min(previous.s, t), e: Math.max(previous.e, t) }
      : { k: record.groupKey, g: record.group, a: this.plan.initialize(), n: 0, v: 0, s: t, e: t, ids: [] };
    state.a = this.plan.add(state.a, record.inputs, t, record.arrival);
    state.n += 1;
    const window = { start: state.s, end: state.e + 1 };
    if (this.updates) {
      state.v += 1;
      ctx.emit(this.result(state.k, state.g, window, state.a, state.n, state.v, false));
    }
    if (state.n < this.size) {
      ctx.store.put(key, { ...state, ids: [...state.ids, record.dedupKey] });
      return { accepted: true, retainUntil: t, pinned: true };
    }
    ctx.emit(this.result(state.k, state.g, window, state.a, state.n, state.v + 1, true));
    ctx.store.delete(key);
    ctx.unpinDedup(state.ids);
    return { accepted: true, retainUntil: t, pinned: false };
  }

  onTimer(): void {
    // Count windows complete on arrival, never on a timer.
  }

  nextTimer(): number | undefined {
    return undefined;
  }

  openWindows(stateKey: string, store: WindowStateStore): number {
    return store.get(stateKey) === undefined ? 0 : 1;
  }
}
