import { ManualClock, PrometheusMetrics, TransactionEvent } from '@streamguard/common';
import { NDJSON } from './event-batch-parser';
import { EventPublisher } from './event-publisher';
import { IngestEventsService } from './ingest-events.service';

const NOW = 1_800_000_000_000;
const T0 = Date.UTC(2026, 0, 31, 12, 0, 0);
const JSON_TYPE = 'application/json';

/** Records every call; what `publish` returns is up to the test. */
class FakePublisher implements EventPublisher {
  readonly calls: Array<{ events: TransactionEvent[]; receivedAt: number }> = [];
  constructor(private readonly respond: () => Promise<void> = () => Promise.resolve()) {}
  publish(events: TransactionEvent[], receivedAt: number): Promise<void> {
    this.calls.push({ events, receivedAt });
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
  const service = new IngestEventsService(publisher, limits, clock, metrics);
  return { service, publisher, clock, metrics };
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
    const outcome = await service.ingest(JSON.stringify([ev('e1'), ev('e2', { occurredAt: '2026-01-31T12:00:00Z' })]), JSON_TYPE);
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
    expect(await service.ingest(`${JSON.stringify(ev('e1'))}\n${JSON.stringify(ev('e2'))}\n`, NDJSON)).toEqual({ kind: 'accepted', count: 2 });
    expect(publisher.calls[0].events.map((e) => e.eventId)).toEqual(['e1', 'e2']);
  });

  it('records the produce latency measured on the injected clock', async () => {
    const clock = new ManualClock(NOW);
    const publisher = new FakePublisher(async () => { clock.advance(30); });
    const metrics = new PrometheusMetrics('ingest');
    const service = new IngestEventsService(publisher, { maxBatchEvents: 3, produceTimeoutMs: 500 }, clock, metrics);
    await service.ingest(JSON.stringify(ev('e1')), JSON_TYPE);
    expect(await sample(metrics, PRODUCE_COUNT)).toBe(1);
    expect(await sample(metrics, PRODUCE_SUM)).toBe(0.03);
  });

  it('adds up accepted events over requests', async () => {
    const { service, metrics } = setup();
    await service.ingest(JSON.stringify([ev('a'), ev('b'), ev('c')]), JSON_TYPE);
    await service.ingest(JSON.stringify(ev('a')), JSON_TYPE); // a retry is a new request: the eventId makes it safe downstream
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
      expect(await service.ingest(body, JSON_TYPE)).toEqual(expected);
      expect(publisher.calls).toEqual([]);
      expect(await sample(metrics, rejected(reason))).toBe(1);
      expect(await sample(metrics, ACCEPTED)).toBe(0);
      expect(await sample(metrics, PRODUCE_COUNT)).toBe(0);
    });
  });

  describe('when Kafka does not acknowledge', () => {
    it('reports unavailable when the publisher rejects, accepting nothing', async () => {
      const { service, publisher, metrics } = setup(() => Promise.reject(new Error('Broker not available')));
      expect(await service.ingest(JSON.stringify(ev('e1')), JSON_TYPE)).toEqual({
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
      expect(await service.ingest(JSON.stringify(ev('e1')), JSON_TYPE)).toMatchObject({
        kind: 'unavailable', message: expect.stringContaining('(producer closed)'),
      });
    });

    describe('with fake timers', () => {
      beforeEach(() => jest.useFakeTimers());
      afterEach(() => jest.useRealTimers());

      it('gives up exactly after produceTimeoutMs when the publisher never answers', async () => {
        const { service, metrics } = setup(() => new Promise<void>(() => undefined));
        let outcome: unknown;
        void service.ingest(JSON.stringify(ev('e1')), JSON_TYPE).then((o) => { outcome = o; });

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
        expect(await service.ingest(JSON.stringify(ev('e1')), JSON_TYPE)).toEqual({ kind: 'accepted', count: 1 });
        expect(jest.getTimerCount()).toBe(0);
      });

      it('clears the timeout when the publisher fails', async () => {
        const { service } = setup(() => Promise.reject(new Error('x')));
        expect(await service.ingest(JSON.stringify(ev('e1')), JSON_TYPE)).toMatchObject({ kind: 'unavailable' });
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
    const first = service.ingest(JSON.stringify([ev('a'), ev('b')]), JSON_TYPE); // 2 in flight
    expect(await service.ingest(JSON.stringify([ev('c'), ev('d')]), JSON_TYPE)).toMatchObject({ kind: 'overloaded', retryAfterSeconds: 1 });
    expect(publisher.calls).toHaveLength(1);
    expect(await sample(metrics, rejected('overloaded'))).toBe(1);
    release();
    expect(await first).toEqual({ kind: 'accepted', count: 2 });
    // Capacity is back once the first request was acknowledged.
    const third = service.ingest(JSON.stringify([ev('c'), ev('d'), ev('e')]), JSON_TYPE);
    release();
    expect(await third).toEqual({ kind: 'accepted', count: 3 });
  });

  it('answers a repeated Idempotency-Key with the first outcome and produces nothing again', async () => {
    const { service, publisher } = setup(undefined, limits);
    expect(await service.ingest(JSON.stringify(ev('a')), JSON_TYPE, 'key-1')).toEqual({ kind: 'accepted', count: 1 });
    expect(await service.ingest(JSON.stringify(ev('a')), JSON_TYPE, 'key-1')).toEqual({ kind: 'accepted', count: 1, replayed: true });
    expect(publisher.calls).toHaveLength(1);
  });

  it('reports a key still in flight, and forgets a key whose request failed so a retry is processed', async () => {
    let fail!: (e: Error) => void;
    const { service, publisher } = setup(() => new Promise<void>((_, reject) => { fail = reject; }), limits);
    const first = service.ingest(JSON.stringify(ev('a')), JSON_TYPE, 'key-2');
    expect(await service.ingest(JSON.stringify(ev('a')), JSON_TYPE, 'key-2')).toEqual({ kind: 'in-progress' });
    fail(new Error('broker down'));
    expect(await first).toMatchObject({ kind: 'unavailable' });
    const retry = service.ingest(JSON.stringify(ev('a')), JSON_TYPE, 'key-2');
    fail(new Error('still down'));
    expect(await retry).toMatchObject({ kind: 'unavailable' });
    expect(publisher.calls).toHaveLength(2);
  });

  it('remembers only the most recent keys', async () => {
    const { service, publisher } = setup(undefined, limits);
    for (const key of ['k1', 'k2', 'k3']) await service.ingest(JSON.stringify(ev(key)), JSON_TYPE, key);
    await service.ingest(JSON.stringify(ev('k1')), JSON_TYPE, 'k1'); // k1 was evicted: produced again
    await service.ingest(JSON.stringify(ev('k3')), JSON_TYPE, 'k3'); // k3 remembered
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
      const first = service.ingest(JSON.stringify([ev('a'), ev('b')]), JSON_TYPE);
      await jest.advanceTimersByTimeAsync(100);
      expect(await first).toMatchObject({ kind: 'unavailable' });
      // The producer still holds a and b: no room for more until they settle.
      expect(await service.ingest(JSON.stringify(ev('c')), JSON_TYPE)).toMatchObject({ kind: 'overloaded' });
      settle();
      await jest.advanceTimersByTimeAsync(0);
      const third = service.ingest(JSON.stringify(ev('c')), JSON_TYPE);
      settle();
      expect(await third).toEqual({ kind: 'accepted', count: 1 });
    } finally {
      jest.useRealTimers();
    }
  });
});
