/**
 * Token buckets, one per API key: `burst` tokens at most, refilled at `ratePerSecond`. A request costs one
 * token (an ingest request: one per event). Each key has its own bucket, so a tenant that exhausts its
 * budget gets 429s while every other key is unaffected. Limits are per service instance: with N replicas
 * behind a load balancer a key can use up to N times the rate.
 */
export interface BucketLimits {
  ratePerSecond: number;
  burst: number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number; exceedsBurst: boolean };

interface Bucket {
  tokens: number;
  updatedAt: number;
  /** The limits it was last used with: eviction judges each bucket by its own. */
  limits: BucketLimits;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  /** `maxBuckets` bounds memory: buckets that have refilled completely carry no state and are dropped first. */
  constructor(private readonly maxBuckets = 100_000) {}

  /**
   * Takes `cost` tokens from `key`'s bucket at time `now` (ms), or none at all. When refused, says after how
   * many whole seconds the same request would pass, and whether it never can (`cost > burst`).
   */
  take(key: string, cost: number, limits: BucketLimits, now: number): TakeResult {
    const bucket = this.refilled(key, limits, now);
    if (cost <= bucket.tokens) {
      bucket.tokens -= cost;
      return { ok: true };
    }
    const exceedsBurst = cost > limits.burst;
    const missing = Math.min(cost, limits.burst) - bucket.tokens;
    return { ok: false, exceedsBurst, retryAfterSeconds: Math.max(1, Math.ceil(missing / limits.ratePerSecond)) };
  }

  private refilled(key: string, limits: BucketLimits, now: number): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxBuckets) this.evictFull(now);
      bucket = { tokens: limits.burst, updatedAt: now, limits };
      this.buckets.set(key, bucket);
      return bucket;
    }
    const elapsedMs = Math.max(0, now - bucket.updatedAt);
    bucket.tokens = Math.min(limits.burst, bucket.tokens + (elapsedMs * limits.ratePerSecond) / 1000);
    bucket.updatedAt = now;
    bucket.limits = limits;
    return bucket;
  }

  /** Buckets held (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  /** Drops buckets that would be full by now (their state equals a fresh bucket), else the oldest. */
  private evictFull(now: number): void {
    for (const [key, { tokens, updatedAt, limits }] of this.buckets) {
      if (tokens + ((now - updatedAt) * limits.ratePerSecond) / 1000 >= limits.burst) this.buckets.delete(key);
    }
    if (this.buckets.size >= this.maxBuckets) this.buckets.delete(this.buckets.keys().next().value as string);
  }
}
