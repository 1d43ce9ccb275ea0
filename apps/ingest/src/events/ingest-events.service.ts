import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock, LATENCY_BUCKETS_SECONDS, METRICS, Metrics } from '@streamguard/common';
import { ParseOutcome, parseEventBatch } from './event-batch-parser';
import { EVENT_PUBLISHER, EventPublisher } from './event-publisher';

export interface IngestLimits {
  maxBatchEvents: number;
  produceTimeoutMs: number;
}
export const INGEST_LIMITS = Symbol('IngestLimits');

export type IngestOutcome =
  | Exclude<ParseOutcome, { kind: 'ok' }>
  | { kind: 'accepted'; count: number }
  | { kind: 'unavailable'; message: string; retryAfterSeconds: number };

/** Use case: validate a request's events and make them durable in Kafka before acknowledging. */
@Injectable()
export class IngestEventsService {
  private readonly accepted;
  private readonly rejected;
  private readonly produceLatency;

  constructor(
    @Inject(EVENT_PUBLISHER) private readonly publisher: EventPublisher,
    @Inject(INGEST_LIMITS) private readonly limits: IngestLimits,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(METRICS) metrics: Metrics,
  ) {
    this.accepted = metrics.counter('ingest_events_accepted_total', 'Events acknowledged to clients (durable in Kafka).');
    this.rejected = metrics.counter('ingest_events_rejected_total', 'Requests rejected, by reason.', ['reason']);
    this.produceLatency = metrics.histogram('ingest_produce_duration_seconds', 'Time for Kafka to acknowledge a request\'s events (acks=all).', LATENCY_BUCKETS_SECONDS);
  }

  async ingest(body: string, contentType: string): Promise<IngestOutcome> {
    const parsed = parseEventBatch(body, contentType, this.limits.maxBatchEvents);
    if (parsed.kind !== 'ok') {
      this.rejected.inc({ reason: parsed.kind });
      return parsed;
    }
    const receivedAt = this.clock.now();
    try {
      await withTimeout(this.publisher.publish(parsed.events, receivedAt), this.limits.produceTimeoutMs);
    } catch (error) {
      this.rejected.inc({ reason: 'unavailable' });
      return {
        kind: 'unavailable', retryAfterSeconds: 5,
        message: `Kafka did not acknowledge the events (${(error as Error).message}); nothing was accepted, retry the same request (eventIds make retries safe)`,
      };
    }
    this.produceLatency.observe({}, (this.clock.now() - receivedAt) / 1000);
    this.accepted.inc({}, parsed.events.length);
    return { kind: 'accepted', count: parsed.events.length };
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
