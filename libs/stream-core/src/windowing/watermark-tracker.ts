/**
 * Per-partition progress: the event-time watermark, the idle-partition bookkeeping and the arrival counter,
 * all persisted under one store key so a restored operator resumes with the same watermark.
 *
 * - `watermark = max(event time of counted records) - maxOutOfOrdernessMs`; it never moves backwards.
 * - Idle rule: once `now - lastRecordAt >= idleTimeoutMs` the partition is assumed caught up, so processing
 *   time stands in for event time: `watermark = max(watermark, now - maxOutOfOrdernessMs)`. Before the first
 *   record (or if `lastRecordAt` was lost) the idle rule does nothing: an empty partition may have a backlog.
 */
import type { WindowStateStore } from './window-state-store';

/** JSON form: `null` encodes "no value yet" (-Infinity is not JSON). */
interface ProgressState {
  watermark: number | null;
  lastRecordAt: number | null;
  arrivals: number;
}

export const PROGRESS_KEY = 'meta/progress';

export class WatermarkTracker {
  private state: ProgressState;

  constructor(
    private readonly store: WindowStateStore,
    private readonly maxOutOfOrdernessMs: number,
    private readonly idleTimeoutMs: number,
  ) {
    this.state = store.get<ProgressState>(PROGRESS_KEY) ?? { watermark: null, lastRecordAt: null, arrivals: 0 };
  }

  /** -Infinity before any counted record. */
  get watermark(): number {
    return this.state.watermark ?? -Infinity;
  }

  /** Any record handed to the operator (even a bad one) proves the partition is not idle. */
  recordActivity(now: number): void {
    this.update({ lastRecordAt: now });
  }

  /**
   * Restarts the idle countdown of a partition that has seen records (after a restore, which may have a
   * backlog). A partition that never saw one stays "no record yet": arming the idle rule there would move
   * its watermark to the present before its first record arrives, and that record, if older than the
   * out-of-orderness, would be TOO_LATE for no reason but a slow start upstream.
   */
  restartIdleCountdown(now: number): void {
    if (this.state.lastRecordAt !== null) this.update({ lastRecordAt: now });
  }

  /** Monotonic per-partition sequence number of counted records (ties in first/last). */
  nextArrival(): number {
    const arrival = this.state.arrivals;
    this.update({ arrivals: arrival + 1 });
    return arrival;
  }

  /** Returns true when the watermark moved. */
  observeEventTime(eventTime: number): boolean {
    return this.advanceTo(eventTime - this.maxOutOfOrdernessMs);
  }

  /** Applies the idle rule; returns true when the watermark moved. */
  advanceIfIdle(now: number): boolean {
    const { lastRecordAt } = this.state;
    if (this.idleTimeoutMs <= 0 || lastRecordAt === null || now - lastRecordAt < this.idleTimeoutMs) return false;
    return this.advanceTo(now - this.maxOutOfOrdernessMs);
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
