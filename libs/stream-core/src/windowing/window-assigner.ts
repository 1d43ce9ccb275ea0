/**
 * Pure window arithmetic: which windows a timestamp belongs to, and the two predicates every window type
 * shares. All windows are half-open `[start, end)`, aligned to the epoch shifted by `offsetMs`.
 */

export interface TimeWindow {
  start: number;
  end: number;
}

/** Mathematical modulo: always in [0, divisor), also for negative timestamps (pre-1970 or offset-shifted). */
export function floorMod(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}

/** Start of the aligned period containing `t`: `t - ((t - offset) mod period)`. */
export function alignedStart(t: number, periodMs: number, offsetMs = 0): number {
  return t - floorMod(t - offsetMs, periodMs);
}

/**
 * Tumbling and hopping windows containing `t`, ascending by start. A hopping window of size S and advance A
 * holds every timestamp in exactly ceil(S / A) windows (S / A when S is a multiple of A). A timestamp equal to
 * a window's `end` belongs to the next window, never to that one.
 */
export function assignTimeWindows(t: number, sizeMs: number, advanceMs: number, offsetMs = 0): TimeWindow[] {
  const windows: TimeWindow[] = [];
  for (let start = alignedStart(t, advanceMs, offsetMs); start > t - sizeMs; start -= advanceMs) {
    windows.push({ start, end: start + sizeMs });
  }
  return windows.reverse();
}

/** The window a single session record opens before merging: `[t, t + gap)`. */
export function sessionWindowOf(t: number, gapMs: number): TimeWindow {
  return { start: t, end: t + gapMs };
}

/** Session ranges merge when they overlap or touch (`a.end === b.start`), i.e. events at most gapMs apart. */
export function sessionsOverlapOrTouch(a: TimeWindow, b: TimeWindow): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/** The lookback window a sliding record at `t` defines: [t - size, t] inclusive, i.e. `[t - size, t + 1)`. */
export function slidingWindowOf(t: number, sizeMs: number): TimeWindow {
  return { start: t - sizeMs, end: t + 1 };
}

/** Watermark at which a window is closed for good: its final result is emitted and its state deleted. */
export function cleanupTime(windowEnd: number, allowedLatenessMs: number): number {
  return windowEnd + allowedLatenessMs;
}

/** A window is late (closed, accepts nothing) once the watermark reaches `end + allowedLateness`. */
export function isWindowLate(windowEnd: number, allowedLatenessMs: number, watermark: number): boolean {
  return watermark >= cleanupTime(windowEnd, allowedLatenessMs);
}

/** A window has fired (its result is complete as far as the watermark can tell) once the watermark reaches `end`. */
export function hasWindowFired(windowEnd: number, watermark: number): boolean {
  return watermark >= windowEnd;
}
