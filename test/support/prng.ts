/** Deterministic pseudo-random numbers in [0, 1) (an LCG), so a failing generated scenario can be replayed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
