import { Inject, Injectable } from '@nestjs/common';
import { AuthenticatedCaller, CLOCK, Clock, LATENCY_BUCKETS_SECONDS, METRICS, Metrics, RATE_LIMITER, RateLimiter } from '@streamguard/common';
import { ParseOutcome, parseEventBatch } from './event-batch-parser';
import { EVENT_PUBLISHER, EventPublisher } from './event-publisher';
import { IdempotencyCache } from './idempotency-cache';

export interface IngestLimits {
  maxBatchEvents: number;
  produceTimeoutMs: number;
  /** Events awaiting Kafka acknowledgement at once (default: unbounded, for tests). */
  maxInFlightEvents?: number;
  /** Remembered Idempotency-Keys (default 0: off). */
  idempotencyKeys?: number;
}
export const INGEST_LIMITS = Symbol('IngestLimits');

export type IngestOutcome =
  | Exclude<ParseOutcome, { kind: 'ok' }>
  | { kind: 'accepted'; count: number; replayed?: boolean }
  | { kind: 'in-progress' }
  | { kind: 'overloaded'; message: string; retryAfterSeconds: number }
  | { kind: 'unavailable'; message: string; retryAfterSeconds: number };

/** Use case: validate a request's events and make them durable in Kafka before acknowledging. */
@Injectable()
export class IngestEventsService {
  private readonly accepted;
  private readonly rejected;
  private readonly produceLatency;
  private readonly inFlightGauge;
  private readonly idempotency: IdempotencyCache;
  private inFlight = 0;

  constructor(
    @Inject(EVENT_PUBLISHER) private readonly publisher: EventPublisher,
    @Inject(INGEST_LIMITS) private readonly limits: IngestLimits,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(METRICS) metrics: Metrics,
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiter,
  ) {
    this.accepted = metrics.counter('ingest_events_accepted_total', 'Events acknowledged to clients (durable in Kafka).');
    this.rejected = metrics.counter('ingest_events_rejected_total', 'Requests rejected, by reason.', ['reason']);
    this.produceLatency = metrics.histogram('ingest_produce_duration_seconds', 'Time for Kafka to acknowledge a request\'s events (acks=all).', LATENCY_BUCKETS_SECONDS);
    this.inFlightGauge = metrics.gauge('ingest_in_flight_events', 'Events waiting for Kafka acknowledgement.');
    this.idempotency = new IdempotencyCache(limits.idempotencyKeys ?? 0);
  }

  /**
   * Validates, then produces with acks=all. Outcomes: `accepted` only once Kafka acknowledged every event;
   * `unavailable` when Kafka failed or did not answer in time — then the outcome of some events is unknown
   * (a partial write is possible), and retrying the same request is safe because every stage deduplicates
   * by eventId; `overloaded` (nothing produced) when too many events already wait for Kafka.
   * Every event is stamped with the caller's tenant and costs one token of the caller's rate limit: the
   * first was taken when the request was authenticated, the rest here (a 429 or 413 from
   * {@link RateLimiter.charge} is thrown before anything is produced; nothing is charged for a 503). Idempotency-Keys are
   * remembered per tenant: two tenants using the same key value never see each other's answers.
   */
  async ingest(body: string, contentType: string, caller: AuthenticatedCaller, clientIdempotencyKey?: string): Promise<IngestOutcome> {
    const idempotencyKey = clientIdempotencyKey === undefined ? undefined : `${caller.tenantId}\u0000${clientIdempotencyKey}`;
    const previous = idempotencyKey ? this.idempotency.get(idempotencyKey) : undefined;
    if (previous?.state === 'done') return { kind: 'accepted', count: previous.accepted, replayed: true };
    if (previous?.state === 'in-flight') return { kind: 'in-progress' };
    const parsed = parseEventBatch(body, contentType, this.limits.maxBatchEvents);
    if (parsed.kind !== 'ok') {
      this.rejected.inc({ reason: parsed.kind });
      return parsed;
    }
    const count = parsed.events.length;
    if (this.inFlight + count > (this.limits.maxInFlightEvents ?? Infinity)) {
      this.rejected.inc({ reason: 'overloaded' });
      return { kind: 'overloaded', retryAfterSeconds: 1, message: `${this.inFlight} events are waiting for Kafka (limit INGEST_MAX_IN_FLIGHT_EVENTS); nothing was accepted, retry shortly` };
    }
    try {
      // The request's first token was taken when it was authenticated, before its body was read.
      this.limiter.charge(caller, count - 1, 'events', count);
    } catch (error) {
      this.rejected.inc({ reason: 'rate-limited' });
      throw error;
    }
    const receivedAt = this.clock.now();
    if (idempotencyKey) this.idempotency.begin(idempotencyKey);
    this.inFlight += count;
    this.inFlightGauge.set({}, this.inFlight);
    // Released when Kafka settles the send, not when we stop waiting: after a timeout the records are still
    // buffered in the producer, and the bound is on memory.
    const publishing = this.startPublish(parsed.events, caller.tenantId, receivedAt).finally(() => {
      this.inFlight -= count;
      this.inFlightGauge.set({}, this.inFlight);
    });
    try {
      await withTimeout(publishing, this.limits.produceTimeoutMs);
    } catch (error) {
      publishing.catch(() => undefined); // settled later; its outcome is already reported as unknown
      if (idempotencyKey) this.idempotency.abandon(idempotencyKey);
      this.rejected.inc({ reason: 'unavailable' });
      return {
        kind: 'unavailable', retryAfterSeconds: 5,
        message: `Kafka did not acknowledge the events (${(error as Error).message}); some may have been written. Retry the same request: eventIds make retries safe`,
      };
    }
    if (idempotencyKey) this.idempotency.complete(idempotencyKey, count);
    this.produceLatency.observe({}, (this.clock.now() - receivedAt) / 1000);
    this.accepted.inc({}, count);
    return { kind: 'accepted', count };
  }

  /** A publisher that throws synchronously is a failed publish like any other. */
  private startPublish(events: Parameters<EventPublisher['publish']>[0], tenantId: string, receivedAt: number): Promise<void> {
    try {
      return this.publisher.publish(events, tenantId, receivedAt);
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

class TimeoutError extends Error {}


function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no acknowledgement within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
