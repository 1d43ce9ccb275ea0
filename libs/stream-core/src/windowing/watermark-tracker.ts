/**
 * Per-partition progress: the event-time watermark, the in-band idle rule's bookkeeping and the arrival
 * counter, all persisted under one store key so a restored operator resumes with the same watermark.
 *
 * - `watermark = max(event time of counted records) - maxOutOfOrdernessMs`; it never moves backwards.
 * - Idle rule, in-band (no clock is read): ingest time is the clock, and it only advances through the
 *   partition's progress markers (see SourceProgress). When the partition's progress P is known and the
 *   newest ingest time of its records is at least `idleTimeoutMs` behind P,
 *   `watermark = max(watermark, P - maxOutOfOrdernessMs)`. A paused upstream delays records and markers alike,
 *   so it can never make the records behind it late, and a backlog read an hour later (a replay, a restored
 *   partition, a stage catching up) is judged exactly as it was when live.
 * - Before the first record the idle rule does nothing: an empty partition may have a backlog.
 * - `lastRecordAt` in state written before markers existed is the aggregate's clock at that record: close to
 *   its ingest time, so such state carries over.
 */
import { SourceProgress, type ProgressMarker, type SourceProgressState } from '../time/source-progress';
import type { WindowStateStore } from './window-state-store';

/** JSON form: `null` encodes "no value yet" (-Infinity is not JSON). */
interface ProgressState {
  watermark: number | null;
  /** Newest ingest time of any record handed to the operator. */
  lastRecordAt: number | null;
  arrivals: number;
  /** The partition's progress markers (absent in state written before markers existed). */
  input?: SourceProgressState;
}

export const PROGRESS_KEY = 'meta/progress';

export class WatermarkTracker {
  private state: ProgressState;
  private readonly input: SourceProgress;

  constructor(
    private readonly store: WindowStateStore,
    private readonly maxOutOfOrdernessMs: number,
    private readonly idleTimeoutMs: number,
  ) {
    this.state = store.get<ProgressState>(PROGRESS_KEY) ?? { watermark: null, lastRecordAt: null, arrivals: 0 };
    // Sources of a fixed family never time out, and the open family's timeout is not the operator's concern.
    this.input = new SourceProgress(Infinity, this.state.input);
  }

  /** -Infinity before any counted record. */
  get watermark(): number {
    return this.state.watermark ?? -Infinity;
  }

  /** Any record handed to the operator (even a bad one) proves the partition is not idle at its ingest time. */
  recordActivity(ingestTime: number): void {
    if (this.state.lastRecordAt === null || ingestTime > this.state.lastRecordAt) this.update({ lastRecordAt: ingestTime });
  }

  /** Monotonic per-partition sequence number of counted records (ties in first/last). */
  nextArrival(): number {
    const arrival = this.state.arrivals;
    this.update({ arrivals: arrival + 1 });
    return arrival;
  }

  /** A counted record; returns true when the watermark moved. */
  observeEventTime(eventTime: number): boolean {
    return this.advanceTo(eventTime - this.maxOutOfOrdernessMs);
  }

  /** Applies a progress marker and then the idle rule; returns true when the watermark moved. */
  observeProgress(marker: ProgressMarker): boolean {
    if (!this.input.observe(marker)) return false;
    this.update({ input: this.input.snapshot() });
    const progress = this.input.time;
    const { lastRecordAt } = this.state;
    if (progress === undefined || this.idleTimeoutMs <= 0 || lastRecordAt === null) return false;
    if (progress - lastRecordAt < this.idleTimeoutMs) return false;
    return this.advanceTo(progress - this.maxOutOfOrdernessMs);
  }

  private advanceTo(candidate: number): boolean {
    if (!(candidate > this.watermark)) return false;
    this.update({ watermark: candidate });
    return true;
  }

  private update(patch: Partial<ProgressState>): void {
    this.state = { ...this.state, ...patch };
    this.store.put(PROGRESS_KEY, this.state);
  }
}
