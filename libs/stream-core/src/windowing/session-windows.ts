/**
 * Session windows (Flink `EventTimeSessionWindows` / Kafka Streams `SessionWindows`): per group, a sorted list
 * of disjoint sessions, each `[first event, last event + gap)` with merged accumulators (no raw records).
 *
 * - A record at t is assigned `[t, t + gap)`; it is TOO_LATE when *that* window is late
 *   (watermark >= t + gap + allowedLateness), even if it falls inside a still-open longer session. Judging by
 *   the record's own window keeps dedup sound: once its own window is closed, a redelivery is rejected as
 *   late instead of being counted twice in a session that outlived the dedup entry.
 * - Every open session that overlaps or touches `[t, t + gap]` is merged with it into one session.
 * - 'update' mode emits the merged session once, with version = max(versions of the merged sessions) + 1.
 *   Superseded sessions get no retraction: consumers keying sessions by (group, windowStart) see the merged
 *   session replace the one it extends; a session merged away (a later start) is simply never closed.
 */
import type { Accumulators, AggregationPlan } from './aggregators';
import { cleanupTime, isWindowLate, sessionsOverlapOrTouch, sessionWindowOf } from './window-assigner';
import type { WindowDefinition } from './window-definition';
import { BaseWindowKind, type AddOutcome, type KindContext, type PreparedRecord, type WindowKind } from './window-kind';
import type { WindowStateStore } from './window-state-store';

interface Session {
  s: number; // first event time
  e: number; // last event time + gap
  a: Accumulators;
  n: number;
  v: number;
}

interface SessionGroupState {
  k: string;
  g: Record<string, unknown>;
  ss: Session[]; // disjoint, not touching, sorted by start
}

export class SessionWindows extends BaseWindowKind implements WindowKind {
  private readonly gapMs: number;

  constructor(definition: WindowDefinition, plan: AggregationPlan) {
    super('s', definition, plan);
    if (definition.window.type !== 'session') throw new Error(`SessionWindows cannot run ${definition.window.type} windows`);
    this.gapMs = definition.window.gapMs;
  }

  add(record: PreparedRecord, ctx: KindContext): AddOutcome {
    const own = sessionWindowOf(record.eventTime, this.gapMs);
    if (isWindowLate(own.end, this.lateness, ctx.watermark)) return { accepted: false, window: own };

    const key = this.keyOf(record.groupKey);
    const state = ctx.store.get<SessionGroupState>(key) ?? { k: record.groupKey, g: record.group, ss: [] };
    let merged: Session = {
      s: own.start,
      e: own.end,
      a: this.plan.add(this.plan.initialize(), record.inputs, record.eventTime, record.arrival),
      n: 1,
      v: 0,
    };
    const untouched: Session[] = [];
    for (const session of state.ss) {
      if (!sessionsOverlapOrTouch({ start: session.s, end: session.e }, own)) {
        untouched.push(session);
        continue;
      }
      merged = {
        s: Math.min(merged.s, session.s),
        e: Math.max(merged.e, session.e),
        a: this.plan.merge(session.a, merged.a),
        n: merged.n + session.n,
        v: Math.max(merged.v, session.v),
      };
    }
    if (this.updates) {
      merged.v += 1;
      ctx.emit(this.result(state.k, state.g, { start: merged.s, end: merged.e }, merged.a, merged.n, merged.v, false));
    }
    const sessions = [...untouched, merged].sort((x, y) => x.s - y.s);
    ctx.store.put(key, { ...state, ss: sessions });
    ctx.schedule(key, cleanupTime(merged.e, this.lateness));
    return { accepted: true, retainUntil: cleanupTime(merged.e, this.lateness), pinned: false };
  }

  onTimer(stateKey: string, ctx: KindContext): void {
    const state = ctx.store.get<SessionGroupState>(stateKey);
    if (!state) return;
    const open: Session[] = [];
    for (const session of state.ss) {
      if (isWindowLate(session.e, this.lateness, ctx.watermark)) {
        ctx.emit(this.result(state.k, state.g, { start: session.s, end: session.e }, session.a, session.n, session.v + 1, true));
      } else {
        open.push(session);
      }
    }
    if (open.length === state.ss.length) {
      this.reschedule(stateKey, ctx);
    } else if (open.length === 0) {
      ctx.store.delete(stateKey);
    } else {
      const next = { ...state, ss: open };
      ctx.store.put(stateKey, next);
      this.reschedule(stateKey, ctx);
    }
  }

  nextTimer(stateKey: string, store: WindowStateStore): number | undefined {
    const state = store.get<SessionGroupState>(stateKey);
    if (!state || state.ss.length === 0) return undefined;
    return Math.min(...state.ss.map((s) => cleanupTime(s.e, this.lateness)));
  }

  openWindows(stateKey: string, store: WindowStateStore): number {
    return store.get<SessionGroupState>(stateKey)?.ss.length ?? 0;
  }

  private reschedule(stateKey: string, ctx: KindContext): void {
    const next = this.nextTimer(stateKey, ctx.store);
    if (next !== undefined) ctx.schedule(stateKey, next);
  }
}
