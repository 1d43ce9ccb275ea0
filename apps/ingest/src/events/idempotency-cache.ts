/**
 * Remembers the outcome of recent requests by their `Idempotency-Key`, so a client's retry of a request that
 * was acknowledged gets the same answer without producing again. Per instance and bounded (oldest keys are
 * forgotten first): across instances, or after a restart, the events' `eventId`s still make a retry safe,
 * because every downstream stage deduplicates by eventId.
 */
export type IdempotentOutcome = { state: 'done'; accepted: number } | { state: 'in-flight' };

export class IdempotencyCache {
  private readonly entries = new Map<string, IdempotentOutcome>();

  constructor(private readonly capacity: number) {}

  get(key: string): IdempotentOutcome | undefined {
    return this.entries.get(key);
  }

  begin(key: string): void {
    this.set(key, { state: 'in-flight' });
  }

  complete(key: string, accepted: number): void {
    this.set(key, { state: 'done', accepted });
  }

  /** The request failed: a retry must be processed again. */
  abandon(key: string): void {
    this.entries.delete(key);
  }

  private set(key: string, outcome: IdempotentOutcome): void {
    if (this.capacity === 0) return;
    this.entries.delete(key);
    this.entries.set(key, outcome);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }
}
