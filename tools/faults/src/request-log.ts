/**
 * The client's side of the story: every request to `POST /v1/events` and what it was told. The checker
 * judges the pipeline against this log only (Jepsen's queue checker: what was acknowledged must come out).
 *
 * Outcome of one attempt:
 * - `acknowledged`: 202. Every event of the request is durable in `events.raw`.
 * - `rejected`: a 4xx. Nothing of the request may be anywhere.
 * - `unknown`: a 503, any other 5xx, a connection error or a timeout. The events may or may not have been
 *   written (a 503 KAFKA_UNAVAILABLE is a timeout on our side; the broker may still take the write), so
 *   the generator retries the same events and the checker allows them at most once per such attempt.
 */
import type { SentEvent } from './reference';

export type AttemptOutcome = 'acknowledged' | 'rejected' | 'unknown';

export interface RequestAttempt {
  requestId: number;
  attempt: number;
  eventIds: string[];
  outcome: AttemptOutcome;
  /** HTTP status, or 0 when no response arrived. */
  status: number;
  /** `error.code` of the response, or the client error's message. */
  detail: string;
  startedAt: number;
  durationMs: number;
}

/** How often each event was attempted, by outcome: all the checker needs to bound its occurrences. */
export interface EventAttempts {
  acknowledged: number;
  rejected: number;
  unknown: number;
}

/**
 * What the log allows for one event in `events.raw`:
 * - never in doubt (no unknown attempt) and acknowledged → exactly once (`exact`);
 * - any unknown attempt → at least once if some attempt was acknowledged, at most once per attempt that may
 *   have written (acknowledged + unknown); more than one copy is an "unknown-duplicate" (allowed, reported);
 * - only rejected → never.
 */
export interface OccurrenceBounds {
  min: number;
  max: number;
  exact: boolean;
}

export function occurrenceBounds(a: EventAttempts): OccurrenceBounds {
  const mayHaveWritten = a.acknowledged + a.unknown;
  if (a.unknown === 0) return { min: a.acknowledged > 0 ? 1 : 0, max: Math.min(mayHaveWritten, 1), exact: true };
  return { min: a.acknowledged > 0 ? 1 : 0, max: mayHaveWritten, exact: false };
}

export class RequestLog {
  readonly attempts: RequestAttempt[] = [];
  private readonly byEvent = new Map<string, EventAttempts>();
  /** Every event as sent (the first time; a retry sends the same), by eventId: the reference's input. */
  readonly sent = new Map<string, SentEvent>();

  recordSent(events: SentEvent[]): void {
    for (const e of events) if (!this.sent.has(e.eventId)) this.sent.set(e.eventId, { ...e });
  }

  record(attempt: RequestAttempt): void {
    this.attempts.push(attempt);
    for (const id of attempt.eventIds) {
      const counts = this.byEvent.get(id) ?? { acknowledged: 0, rejected: 0, unknown: 0 };
      counts[attempt.outcome] += 1;
      this.byEvent.set(id, counts);
    }
  }

  events(): ReadonlyMap<string, EventAttempts> {
    return this.byEvent;
  }

  /** Events by final state: acknowledged at least once, never acknowledged but possibly written, rejected only. */
  tally(): { sent: number; acknowledged: number; unknown: number; rejected: number; requests: number; retries: number } {
    let acknowledged = 0;
    let unknown = 0;
    let rejected = 0;
    for (const a of this.byEvent.values()) {
      if (a.acknowledged > 0) acknowledged += 1;
      else if (a.unknown > 0) unknown += 1;
      else rejected += 1;
    }
    const retries = this.attempts.filter((a) => a.attempt > 1).length;
    return { sent: this.byEvent.size, acknowledged, unknown, rejected, requests: this.attempts.length - retries, retries };
  }
}

/**
 * Classifies an HTTP answer. Only a 2xx is an acknowledgement and only a 4xx a definite "not accepted";
 * everything else (503 KAFKA_UNAVAILABLE included) leaves the outcome unknown.
 */
export function classifyResponse(status: number): AttemptOutcome {
  if (status === 202) return 'acknowledged';
  if (status >= 400 && status < 500) return 'rejected';
  return 'unknown';
}
