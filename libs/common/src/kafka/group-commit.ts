/**
 * Group commit: callers submit small batches; while one combined write is in flight, new submissions queue
 * up and go out together in the next write. At low load a submission is written at once (no added latency);
 * under load, many requests share one Kafka round trip instead of queueing behind each other — the
 * producer allows one request in flight per broker (idempotence), so separate sends would serialise anyway.
 *
 * Each submission settles with the write that carried it: resolved when that write succeeded, rejected
 * with its error otherwise. A failed write fails only the submissions it carried.
 */
export class GroupCommit<T> {
  private queue: Array<{ items: T[]; resolve: () => void; reject: (error: unknown) => void }> = [];
  private writing = false;

  /** `write` receives the concatenated items of one or more submissions; at most `maxItems` unless one submission alone is larger. */
  constructor(private readonly write: (items: T[]) => Promise<void>, private readonly maxItems = 10_000) {}

  submit(items: T[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  /** Submissions waiting for a write (for tests and metrics). */
  get pending(): number {
    return this.queue.length;
  }

  /** Submissions waiting, plus one while a write is in flight: how long a new submission would wait, roughly. */
  get load(): number {
    return this.queue.length + (this.writing ? 1 : 0);
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const group = this.takeGroup();
        try {
          await this.write(group.flatMap((s) => s.items));
          for (const s of group) s.resolve();
        } catch (error) {
          for (const s of group) s.reject(error);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private takeGroup(): typeof this.queue {
    let count = this.queue[0].items.length;
    let n = 1;
    while (n < this.queue.length && count + this.queue[n].items.length <= this.maxItems) count += this.queue[n++].items.length;
    return this.queue.splice(0, n);
  }
}
