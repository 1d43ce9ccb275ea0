import { approxDistinctAdd, approxDistinctMerge, approxDistinctResult, ApproxDistinctState, EXACT_LIMIT, hash53, REGISTERS, Sketch } from './approx-distinct';

const encode = (v: unknown) => JSON.stringify(v);
function addAll(values: unknown[], state: ApproxDistinctState = []): ApproxDistinctState {
  return values.reduce<ApproxDistinctState>((s, v) => approxDistinctAdd(s, encode(v)), state);
}
const range = (from: number, to: number, prefix = 'acc-') => Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);

describe('approxCountDistinct', () => {
  it('is exact up to the exact limit, keeping 1 and "1" apart and ignoring repeats', () => {
    expect(approxDistinctResult(addAll([1, '1', 1, true, 'a', 'a']))).toBe(4);
    const state = addAll(range(0, EXACT_LIMIT));
    expect(Array.isArray(state)).toBe(true);
    expect(approxDistinctResult(state)).toBe(EXACT_LIMIT);
  });

  it('switches to a fixed-size sketch above it', () => {
    const state = addAll(range(0, EXACT_LIMIT + 1));
    expect(Array.isArray(state)).toBe(false);
    expect((state as Sketch).r.length).toBe(REGISTERS);
    expect(approxDistinctResult(state)).toBeGreaterThan(EXACT_LIMIT - 5);
    expect(approxDistinctResult(state)).toBeLessThan(EXACT_LIMIT + 6);
  });

  it.each([1_000, 10_000, 100_000])('estimates %i distinct values within 5 %', (n) => {
    const estimate = approxDistinctResult(addAll(range(0, n)));
    expect(Math.abs(estimate - n) / n).toBeLessThan(0.05);
  });

  it('adding a value already counted returns the same state object (no copy)', () => {
    const state = addAll(range(0, 5_000));
    expect(approxDistinctAdd(state, encode('acc-42'))).toBe(state);
  });

  it('merges like the union: exact+exact, exact+sketch, sketch+sketch, in any order', () => {
    const a = range(0, 3_000);
    const b = range(2_000, 6_000);
    const union = approxDistinctResult(addAll([...a, ...b]));
    expect(approxDistinctResult(approxDistinctMerge(addAll(a), addAll(b)))).toBe(union);
    expect(approxDistinctMerge(addAll(b), addAll(a))).toEqual(approxDistinctMerge(addAll(a), addAll(b)));
    expect(approxDistinctResult(approxDistinctMerge(addAll(['x', 'y']), addAll(['y', 'z'])))).toBe(3);
    const small = addAll(['only-here']);
    expect(approxDistinctMerge(small, addAll(a))).toEqual(addAll(['only-here'], addAll(a)));
  });

  it('keeps the harmonic sum and zero count equal to a recount from the registers', () => {
    const sketch = addAll(range(0, 20_000)) as Sketch;
    const ranks = [...sketch.r].map((c) => c.charCodeAt(0) - 48);
    expect(sketch.z).toBe(ranks.filter((r) => r === 0).length);
    expect(sketch.h).toBeCloseTo(ranks.reduce((sum, r) => sum + 2 ** -r, 0), 9);
    const merged = approxDistinctMerge(addAll(range(0, 10_000)), addAll(range(10_000, 20_000))) as Sketch;
    expect(merged.r).toBe(sketch.r);
    expect(merged.h).toBeCloseTo(sketch.h, 9);
  });

  it('survives JSON round trips (window state is persisted as JSON)', () => {
    const state = addAll(range(0, 1_000));
    expect(approxDistinctResult(JSON.parse(JSON.stringify(state)) as ApproxDistinctState)).toBe(approxDistinctResult(state));
  });

  it('hashes to 53 bits, deterministically', () => {
    expect(hash53('acc-1')).toBe(hash53('acc-1'));
    expect(hash53('acc-1')).not.toBe(hash53('acc-2'));
    expect(Number.isSafeInteger(hash53('x'.repeat(1000)))).toBe(true);
  });
});
