import { ApiError, AuthenticatedCaller, ManualClock, PrometheusMetrics, RateLimiter, TransactionEvent } from '@streamguard/common';
import { NDJSON } from './event-batch-parser';
import { EventPublisher } from './event-publisher';
import { IngestEventsService } from './ingest-events.service';

const NOW = 1_800_000_000_000;
const T0 = Date.UTC(2026, 0, 31, 12, 0, 0);
const JSON_TYPE = 'application/json';
const CALLER: AuthenticatedCaller = { tenantId: 'acme', keyId: 'k-acme', scopes: ['ingest'], limits: { ratePerSecond: 1_000_000, burst: 1_000_000 } };

/** Records every call; what `publish` returns is up to the test. */
class FakePublisher implements EventPublisher {
  readonly calls: Array<{ events: TransactionEvent[]; receivedAt: number; tenantId?: string }> = [];
  constructor(private readonly respond: () => Promise<void> = () => Promise.resolve()) {}
  publish(events: TransactionEvent[], tenantId: string, receivedAt: number): Promise<void> {
    // Most tests check the default tenant; recorded only when it is another one, to keep expectations short.
    this.calls.push({ events, receivedAt, ...(tenantId === CALLER.tenantId ? {} : { tenantId }) });
    return this.respond();
  }
  isReady(): boolean {
    return true;
  }
}

function setup(respond?: () => Promise<void>, limits = { maxBatchEvents: 3, produceTimeoutMs: 500 }) {
  const publisher = new FakePublisher(respond);
  const clock = new ManualClock(NOW);
  const metrics = new PrometheusMetrics('ingest');
  const limiter = new RateLimiter(clock, metrics, 'ingest');
  const service = new IngestEventsService(publisher, limits, clock, metrics, limiter);
  /** As a request arrives: the authenticator takes its first token before the body is read, then ingest runs. */
  const ingestAs = (caller: AuthenticatedCaller, body: string) => {
    limiter.charge(caller, 1);
    return service.ingest(body, JSON_TYPE, caller);
  };
  return { service, publisher, clock, metrics, ingestAs };
}

/** Value of one exact series in the Prometheus text, `undefined` when the series does not exist. */
async function sample(metrics: PrometheusMetrics, series: string): Promise<number | undefined> {
  const line = (await metrics.render()).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const ACCEPTED = 'ingest_events_accepted_total{service="ingest"}';
const rejected = (reason: string) => `ingest_events_rejected_total{reason="${reason}",service="ingest"}`;
const PRODUCE_COUNT = 'ingest_produce_duration_seconds_count{service="ingest"}';
const PRODUCE_SUM = 'ingest_produce_duration_seconds_sum{service="ingest"}';

function ev(eventId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { eventId, occurredAt: T0, accountId: 'acc-1', amount: 10, currency: 'EUR', merchantId: 'm-1', ...overrides };
}

describe('IngestEventsService', () => {
  it('publishes the validated events with receivedAt from the injected clock and acknowledges them', async () => {
    const { service, publisher, metrics } = setup();
    const outcome = await service.ingest(JSON.stringify([ev('e1'), ev('e2', { occurredAt: '2026-01-31T12:00:00Z' })]), JSON_TYPE, CALLER);
    expect(outcome).toEqual({ kind: 'accepted', count: 2 });
    expect(publisher.calls).toEqual([{
      receivedAt: NOW,
      events: [
        { eventId: 'e1', occurredAt: T0, accountId: 'acc-1', amount: 10, currency: 'EUR', merchantId: 'm-1' },
        { eventId: 'e2', occurredAt: T0, accountId: 'acc-1', amount: 10, currency: 'EUR', merchantId: 'm-1' },
      ],
    }]);
    expect(await sample(metrics, ACCEPTED)).toBe(2);
  });

  it('accepts NDJSON bodies', async () => {
    const { service, publisher } = setup();
    expect(await service.ingest(`${JSON.stringify(ev('e1'))}\n${JSON.stringify(ev('e2'))}\n`, NDJSON, CALLER)).toEqual({ kind: 'accepted', count: 2 });
    expect(publisher.calls[0].events.map((e) => e.eventId)).toEqual(['e1', 'e2']);
  });

  it('records the produce latency measured on the injected clock', async () => {
    const clock = new ManualClock(NOW);
    const publisher = new FakePublisher(async () => { clock.advance(30); });
    const metrics = new PrometheusMetrics('ingest');
    const service = new IngestEventsService(publisher, { maxBatchEvents: 3, produceTimeoutMs: 500 }, clock, metrics, new RateLimiter(clock, metrics, 'ingest'));
    await service.ingest(JSON.stringify(ev('e1')), JSON_TYPE, CALLER);
    expect(await sample(metrics, PRODUCE_COUNT)).toBe(1);
    expect(await sample(metrics, PRODUCE_SUM)).toBe(0.03);
  });

  it('adds up accepted events over requests', async () => {
    const { service, metrics } = setup();
    await service.ingest(JSON.stringify([ev('a'), ev('b'), ev('c')]), JSON_TYPE, CALLER);
    await service.ingest(JSON.stringify(ev('a')), JSON_TYPE, CALLER); // a retry is a new request: the eventId makes it safe downstream
    expect(await sample(metrics, ACCEPTED)).toBe(4);
  });

  describe('rejected requests publish nothing', () => {
    it.each([
      ['invalid', JSON.stringify([ev('e1'), ev('e2', { amount: 0 })]), { kind: 'invalid', count: 2, invalidEvents: 1, violations: [{ index: 1, field: 'amount', reason: 'must be a finite number > 0 and <= 1e15' }] }],
      ['invalid', JSON.stringify([ev('e1'), ev('e1')]), { kind: 'invalid', count: 2, invalidEvents: 1, violations: [{ index: 1, field: 'eventId', reason: 'duplicates event 0 of this request' }] }],
      ['unparseable', '{"eventId":', { kind: 'unparseable', message: expect.stringMatching(/^the body is not valid JSON: /) }],
      ['unparseable', '', { kind: 'unparseable', message: 'the request body is empty' }],
      ['too-many', JSON.stringify([ev('a'), ev('b'), ev('c'), ev('d')]), { kind: 'too-many', count: 4, limit: 3 }],
    ])('%s: %s', async (reason, body, expected) => {
      const { service, publisher, metrics } = setup();
      expect(await service.ingest(body, JSON_TYPE, CALLER)).toEqual(expected);
      expect(publisher.calls).toEqual([]);
      expect(await sample(metrics, rejected(reason))).toBe(1);
      expect(await sample(metrics, ACCEPTED)).toBe(0);
      expect(await sample(metrics, PRODUCE_COUNT)).toBe(0);
    });
  });

  describe('when Kafka does not acknowledge', () => {
    it('reports unavailable when the publisher rejects, accepting nothing', async () => {
      const { service, publisher, metrics } = setup(() => Promise.reject(new Error('Broker not available')));
      expect(await service.ingest(JSON.stringify(ev('e1')), JSON_TYPE, CALLER)).toEqual({
        kind: 'unavailable',
        retryAfterSeconds: 5,
        message: 'Kafka did not acknowledge the events (Broker not available); some may have been written. Retry the same request: eventIds make retries safe',
      });
      expect(publisher.calls).toHaveLength(1);
      expect(await sample(metrics, rejected('unavailable'))).toBe(1);
      expect(await sample(metrics, ACCEPTED)).toBe(0);
      expect(await sample(metrics, PRODUCE_COUNT)).toBe(0);
    });

    it('reports unavailable when the publisher throws synchronously', async () => {
      const { service } = setup(() => { throw new Error('producer closed'); });
      expect(await service.ingest(JSON.stringify(ev('e1')), JSON_TYPE, CALLER)).toMatchObject({
        kind: 'unavailable', message: expect.stringContaining('(producer closed)'),
      });
    });

    describe('with fake timers', () => {
      beforeEach(() => jest.useFakeTimers());
      afterEach(() => jest.useRealTimers());

      it('gives up exactly after produceTimeoutMs when the publisher never answers', async () => {
        const { service, metrics } = setup(() => new Promise<void>(() => undefined));
        let outcome: unknown;
        void service.ingest(JSON.stringify(ev('e1')), JSON_TYPE, CALLER).then((o) => { outcome = o; });

        await jest.advanceTimersByTimeAsync(499);
        expect(outcome).toBeUndefined();

        await jest.advanceTimersByTimeAsync(1);
        expect(outcome).toEqual({
          kind: 'unavailable',
          retryAfterSeconds: 5,
          message: 'Kafka did not acknowledge the events (no acknowledgement within 500 ms); some may have been written. Retry the same request: eventIds make retries safe',
        });
        jest.useRealTimers();
        expect(await sample(metrics, rejected('unavailable'))).toBe(1);
        expect(await sample(metrics, ACCEPTED)).toBe(0);
      });

      it('clears the timeout once the publisher answers', async () => {
        const { service } = setup();
        expect(await service.ingest(JSON.stringify(ev('e1')), JSON_TYPE, CALLER)).toEqual({ kind: 'accepted', count: 1 });
        expect(jest.getTimerCount()).toBe(0);
      });

      it('clears the timeout when the publisher fails', async () => {
        const { service } = setup(() => Promise.reject(new Error('x')));
        expect(await service.ingest(JSON.stringify(ev('e1')), JSON_TYPE, CALLER)).toMatchObject({ kind: 'unavailable' });
        expect(jest.getTimerCount()).toBe(0);
      });
    });
  });
});

describe('IngestEventsService bounds and idempotency', () => {
  const limits = { maxBatchEvents: 10, produceTimeoutMs: 500, maxInFlightEvents: 3, idempotencyKeys: 2 };

  it('answers overloaded at once, producing nothing, when the request would exceed the in-flight limit', async () => {
    let release!: () => void;
    const { service, publisher, metrics } = setup(() => new Promise<void>((r) => { release = r; }), limits);
    const first = service.ingest(JSON.stringify([ev('a'), ev('b')]), JSON_TYPE, CALLER); // 2 in flight
    expect(await service.ingest(JSON.stringify([ev('c'), ev('d')]), JSON_TYPE, CALLER)).toMatchObject({ kind: 'overloaded', retryAfterSeconds: 1 });
    expect(publisher.calls).toHaveLength(1);
    expect(await sample(metrics, rejected('overloaded'))).toBe(1);
    release();
    expect(await first).toEqual({ kind: 'accepted', count: 2 });
    // Capacity is back once the first request was acknowledged.
    const third = service.ingest(JSON.stringify([ev('c'), ev('d'), ev('e')]), JSON_TYPE, CALLER);
    release();
    expect(await third).toEqual({ kind: 'accepted', count: 3 });
  });

  it('answers a repeated Idempotency-Key with the first outcome and produces nothing again', async () => {
    const { service, publisher } = setup(undefined, limits);
    expect(await service.ingest(JSON.stringify(ev('a')), JSON_TYPE, CALLER, 'key-1')).toEqual({ kind: 'accepted', count: 1 });
    expect(await service.ingest(JSON.stringify(ev('a')), JSON_TYPE, CALLER, 'key-1')).toEqual({ kind: 'accepted', count: 1, replayed: true });
    expect(publisher.calls).toHaveLength(1);
  });

  it('reports a key still in flight, and forgets a key whose request failed so a retry is processed', async () => {
    let fail!: (e: Error) => void;
    const { service, publisher } = setup(() => new Promise<void>((_, reject) => { fail = reject; }), limits);
    const first = service.ingest(JSON.stringify(ev('a')), JSON_TYPE, CALLER, 'key-2');
    expect(await service.ingest(JSON.stringify(ev('a')), JSON_TYPE, CALLER, 'key-2')).toEqual({ kind: 'in-progress' });
    fail(new Error('broker down'));
    expect(await first).toMatchObject({ kind: 'unavailable' });
    const retry = service.ingest(JSON.stringify(ev('a')), JSON_TYPE, CALLER, 'key-2');
    fail(new Error('still down'));
    expect(await retry).toMatchObject({ kind: 'unavailable' });
    expect(publisher.calls).toHaveLength(2);
  });

  it('remembers only the most recent keys', async () => {
    const { service, publisher } = setup(undefined, limits);
    for (const key of ['k1', 'k2', 'k3']) await service.ingest(JSON.stringify(ev(key)), JSON_TYPE, CALLER, key);
    await service.ingest(JSON.stringify(ev('k1')), JSON_TYPE, CALLER, 'k1'); // k1 was evicted: produced again
    await service.ingest(JSON.stringify(ev('k3')), JSON_TYPE, CALLER, 'k3'); // k3 remembered
    expect(publisher.calls.map((c) => c.events[0].eventId)).toEqual(['k1', 'k2', 'k3', 'k1']);
  });
});

describe('IngestEventsService memory bound across timeouts', () => {
  it('keeps counting events whose send timed out until Kafka settles them', async () => {
    jest.useFakeTimers();
    try {
      let settle!: () => void;
      const limits = { maxBatchEvents: 10, produceTimeoutMs: 100, maxInFlightEvents: 2 };
      const { service } = setup(() => new Promise<void>((resolve) => { settle = resolve; }), limits);
      const first = service.ingest(JSON.stringify([ev('a'), ev('b')]), JSON_TYPE, CALLER);
      await jest.advanceTimersByTimeAsync(100);
      expect(await first).toMatchObject({ kind: 'unavailable' });
      // The producer still holds a and b: no room for more until they settle.
      expect(await service.ingest(JSON.stringify(ev('c')), JSON_TYPE, CALLER)).toMatchObject({ kind: 'overloaded' });
      settle();
      await jest.advanceTimersByTimeAsync(0);
      const third = service.ingest(JSON.stringify(ev('c')), JSON_TYPE, CALLER);
      settle();
      expect(await third).toEqual({ kind: 'accepted', count: 1 });
    } finally {
      jest.useRealTimers();
    }
  });

  describe('tenancy and rate limits', () => {
    const other: AuthenticatedCaller = { tenantId: 'globex', keyId: 'k-globex', scopes: ['ingest'], limits: { ratePerSecond: 10, burst: 3 } };

    it('stamps the tenant of the caller\'s key on every event', async () => {
      const { service, publisher } = setup();
      await service.ingest(JSON.stringify([ev('a'), ev('b')]), JSON_TYPE, other);
      expect(publisher.calls).toMatchObject([{ tenantId: 'globex' }]);
    });

    it('rejects a body that names a tenant, saying the tenant comes from the key', async () => {
      const { service, publisher } = setup();
      const outcome = await service.ingest(JSON.stringify([ev('a'), ev('b', { tenantId: 'globex' })]), JSON_TYPE, CALLER);
      expect(outcome).toMatchObject({ kind: 'invalid', violations: [{ index: 1, field: 'tenantId', reason: expect.stringContaining('from your API key') }] });
      expect(publisher.calls).toEqual([]);
    });

    it('charges one token per event: over the budget is a 429 with Retry-After and nothing is produced', async () => {
      const { publisher, clock, metrics, ingestAs } = setup(undefined, { maxBatchEvents: 10, produceTimeoutMs: 500 });
      expect(await ingestAs(other, JSON.stringify([ev('a'), ev('b')]))).toEqual({ kind: 'accepted', count: 2 });
      const refused = await Promise.resolve().then(() => ingestAs(other, JSON.stringify([ev('c'), ev('d')]))).catch((e: ApiError) => e);
      expect(refused).toBeInstanceOf(ApiError);
      expect((refused as ApiError).getStatus()).toBe(429);
      // 3 tokens were left: the first event's went at admission, the second's is missing; at 10/s it comes within 100 ms.
      expect((refused as ApiError).headers).toEqual({ 'Retry-After': '1' });
      expect(publisher.calls).toHaveLength(1);
      expect(await sample(metrics, rejected('rate-limited'))).toBe(1);
      clock.advance(200);
      expect(await ingestAs(other, JSON.stringify([ev('c'), ev('d')]))).toEqual({ kind: 'accepted', count: 2 });
    });

    it('a batch larger than the key\'s burst is a 413 (it could never pass)', async () => {
      const { ingestAs } = setup(undefined, { maxBatchEvents: 10, produceTimeoutMs: 500 });
      const refused = await Promise.resolve().then(() => ingestAs(other, JSON.stringify([ev('a'), ev('b'), ev('c'), ev('d')]))).catch((e: ApiError) => e);
      expect((refused as ApiError).getStatus()).toBe(413);
      expect((refused as ApiError).code).toBe('EXCEEDS_RATE_LIMIT_BURST');
    });

    it('one tenant over its limit does not limit another', async () => {
      const { ingestAs } = setup(undefined, { maxBatchEvents: 10, produceTimeoutMs: 500 });
      await ingestAs(other, JSON.stringify([ev('a'), ev('b'), ev('c')]));
      await expect(Promise.resolve().then(() => ingestAs(other, JSON.stringify(ev('d'))))).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      for (let i = 0; i < 20; i++) expect(await ingestAs(CALLER, JSON.stringify(ev(`x${i}`)))).toEqual({ kind: 'accepted', count: 1 });
    });

    it('charges nothing beyond the first token for a request refused as overloaded', async () => {
      const { ingestAs, service } = setup(() => new Promise(() => undefined), { maxBatchEvents: 10, produceTimeoutMs: 60_000, maxInFlightEvents: 2 } as never);
      void service.ingest(JSON.stringify([ev('a'), ev('b')]), JSON_TYPE, CALLER); // fills the in-flight bound
      const small = { ...other, limits: { ratePerSecond: 0.01, burst: 3 } };
      expect(await ingestAs(small, JSON.stringify([ev('c'), ev('d')]))).toMatchObject({ kind: 'overloaded' });
      // 2 of 3 tokens are left: the refused request cost only its admission token.
      expect(() => ingestAs(small, JSON.stringify([ev('e'), ev('f')]))).not.toThrow();
    });

    it('remembers Idempotency-Keys per tenant: the same key from another tenant is a new request', async () => {
      const { service, publisher } = setup();
      await service.ingest(JSON.stringify(ev('a')), JSON_TYPE, CALLER, 'same-key');
      expect(await service.ingest(JSON.stringify(ev('a')), JSON_TYPE, { ...other, limits: CALLER.limits }, 'same-key')).toEqual({ kind: 'accepted', count: 1 });
      expect(publisher.calls).toHaveLength(2);
    });
  });
});
