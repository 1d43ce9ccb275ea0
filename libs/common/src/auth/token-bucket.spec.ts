import { TokenBuckets } from './token-bucket';

const LIMITS = { ratePerSecond: 10, burst: 20 };

describe('TokenBuckets', () => {
  it('lets the whole burst through at once, then refuses with the seconds until it would pass', () => {
    const buckets = new TokenBuckets();
    expect(buckets.take('k', 20, LIMITS, 0)).toEqual({ ok: true });
    expect(buckets.take('k', 1, LIMITS, 0)).toEqual({ ok: false, exceedsBurst: false, retryAfterSeconds: 1 });
    // 15 tokens need 1.5 s at 10/s: Retry-After is rounded up to whole seconds.
    expect(buckets.take('k', 15, LIMITS, 0)).toEqual({ ok: false, exceedsBurst: false, retryAfterSeconds: 2 });
  });

  it('refills continuously at the rate, never above the burst', () => {
    const buckets = new TokenBuckets();
    buckets.take('k', 20, LIMITS, 0);
    expect(buckets.take('k', 1, LIMITS, 99).ok).toBe(false); // 0.99 tokens
    expect(buckets.take('k', 1, LIMITS, 100).ok).toBe(true); // exactly 1 token after 100 ms
    expect(buckets.take('k', 20, LIMITS, 1_000_000).ok).toBe(true); // capped at the burst
    expect(buckets.take('k', 1, LIMITS, 1_000_000).ok).toBe(false);
  });

  it('a refused take costs nothing', () => {
    const buckets = new TokenBuckets();
    buckets.take('k', 15, LIMITS, 0);
    expect(buckets.take('k', 6, LIMITS, 0).ok).toBe(false);
    expect(buckets.take('k', 5, LIMITS, 0).ok).toBe(true);
  });

  it('says when a cost can never fit the burst', () => {
    expect(new TokenBuckets().take('k', 21, LIMITS, 0)).toEqual({ ok: false, exceedsBurst: true, retryAfterSeconds: 1 });
  });

  it('keeps keys independent', () => {
    const buckets = new TokenBuckets();
    buckets.take('noisy', 20, LIMITS, 0);
    expect(buckets.take('noisy', 1, LIMITS, 0).ok).toBe(false);
    expect(buckets.take('quiet', 20, LIMITS, 0).ok).toBe(true);
  });

  it('bounds memory: full buckets are dropped first, a partly used one survives', () => {
    const buckets = new TokenBuckets(2);
    buckets.take('used', 20, LIMITS, 0);
    buckets.take('idle', 0, LIMITS, 0);
    buckets.take('new', 1, LIMITS, 0); // evicts 'idle' (full), keeps 'used' (empty)
    expect(buckets.size).toBe(2);
    expect(buckets.take('used', 1, LIMITS, 0).ok).toBe(false);
    for (let i = 0; i < 10; i++) buckets.take(`k${i}`, 20, LIMITS, 0); // none full: the oldest goes
    expect(buckets.size).toBe(2);
  });
});
