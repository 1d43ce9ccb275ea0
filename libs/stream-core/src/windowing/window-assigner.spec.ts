import { alignedStart, assignTimeWindows, cleanupTime, floorMod, isWindowLate, sessionsOverlapOrTouch, slidingWindowOf } from './window-assigner';

describe('window assigner', () => {
  it('floorMod is non-negative for negative values', () => {
    expect(floorMod(-1, 10)).toBe(9);
    expect(floorMod(-10, 10)).toBe(0);
    expect(floorMod(13, 10)).toBe(3);
  });

  it.each([
    [0, 10, 0, 0],
    [9, 10, 0, 0],
    [10, 10, 0, 10], // an event at exactly `end` starts the next window
    [-1, 10, 0, -10],
    [-10, 10, 0, -10],
    [2, 10, 3, -7],
    [3, 10, 3, 3],
  ])('tumbling start of t=%d size=%d offset=%d is %d', (t, size, offset, start) => {
    expect(alignedStart(t, size, offset)).toBe(start);
    expect(assignTimeWindows(t, size, size, offset)).toEqual([{ start, end: start + size }]);
  });

  it('hopping: a record is in exactly size/advance windows (ceil when not a multiple), ascending', () => {
    expect(assignTimeWindows(7, 10, 5)).toEqual([
      { start: 0, end: 10 },
      { start: 5, end: 15 },
    ]);
    expect(assignTimeWindows(10, 10, 5)).toEqual([
      { start: 5, end: 15 },
      { start: 10, end: 20 },
    ]);
    for (let t = -30; t < 30; t++) {
      expect(assignTimeWindows(t, 12, 4)).toHaveLength(3);
      expect(assignTimeWindows(t, 10, 3)).toHaveLength(floorMod(t, 3) === 0 ? 4 : 3); // ceil(10 / 3) at most
      for (const w of assignTimeWindows(t, 10, 3, 1)) expect(w.start <= t && t < w.end && floorMod(w.start - 1, 3) === 0).toBe(true);
    }
  });

  it('lateness predicates: accepted at end + lateness - 1, late at end + lateness', () => {
    expect(cleanupTime(10, 5)).toBe(15);
    expect(isWindowLate(10, 5, 14)).toBe(false);
    expect(isWindowLate(10, 5, 15)).toBe(true);
    expect(isWindowLate(10, 0, -Infinity)).toBe(false);
  });

  it('sessions touch when one ends where the other starts; sliding windows are [t - size, t + 1)', () => {
    expect(sessionsOverlapOrTouch({ start: 0, end: 10 }, { start: 10, end: 20 })).toBe(true);
    expect(sessionsOverlapOrTouch({ start: 0, end: 10 }, { start: 11, end: 21 })).toBe(false);
    expect(slidingWindowOf(20, 10)).toEqual({ start: 10, end: 21 });
  });
});
