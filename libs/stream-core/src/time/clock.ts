/**
 * Processing-time source. Operators never call `Date.now()` themselves: the clock is injected so that
 * event-time tests can script processing time too (idle partitions, future-skew checks, cooldowns).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

// The one place the wall clock is read; everything else receives a Clock.
// eslint-disable-next-line no-restricted-properties
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to: for tests and replays. */
export class ManualClock implements Clock {
  constructor(private current = 0) {}
  now(): number {
    return this.current;
  }
  set(ms: number): void {
    this.current = ms;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
