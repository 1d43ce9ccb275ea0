/**
 * Event-time timers: a min-heap of (time, key) that keeps at most one *live* timer per key, the earliest.
 * Scheduling a later time for a key that already has an earlier one is a no-op: when the earlier one fires,
 * its owner reschedules for whatever is due next. Superseded heap entries are skipped lazily when popped.
 * Timers are derived data (rebuilt from the state store on restore), never persisted.
 */
export interface Timer {
  time: number;
  key: string;
}

export class TimerQueue {
  private readonly heap: Timer[] = [];
  private readonly earliest = new Map<string, number>();

  schedule(key: string, time: number): void {
    const current = this.earliest.get(key);
    if (current !== undefined && current <= time) return;
    this.earliest.set(key, time);
    this.push({ time, key });
  }

  /** Removes and returns the next live timer with `time <= upTo`, or undefined when none is due. */
  popDue(upTo: number): Timer | undefined {
    while (this.heap.length > 0 && this.heap[0].time <= upTo) {
      const timer = this.pop();
      if (this.earliest.get(timer.key) === timer.time) {
        this.earliest.delete(timer.key);
        return timer;
      }
    }
    return undefined;
  }

  get size(): number {
    return this.earliest.size;
  }

  private push(timer: Timer): void {
    const h = this.heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].time <= h[i].time) break;
      [h[parent], h[i]] = [h[i], h[parent]];
      i = parent;
    }
  }

  private pop(): Timer {
    const h = this.heap;
    const top = h[0];
    const last = h.pop() as Timer;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l].time < h[m].time) m = l;
        if (r < h.length && h[r].time < h[m].time) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}
