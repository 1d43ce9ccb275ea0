/**
 * Errors carry a stable code and whether retrying can help. Consumers map them:
 * retriable → pause the partition and retry with back-off (nothing committed);
 * not retriable → the record goes to the DLQ with its origin and the partition keeps flowing.
 */
import { isConnectionError } from '../postgres/database';

export class ProcessingError extends Error {
  constructor(readonly code: string, message: string, readonly retriable: boolean) {
    super(message);
    this.name = 'ProcessingError';
  }
}

/** A record that can never be processed as it is (bad JSON, unknown schema version, invalid fields). */
export class PoisonRecordError extends ProcessingError {
  constructor(code: string, message: string) {
    super(code, message, false);
    this.name = 'PoisonRecordError';
  }
}

/**
 * Postgres errors that a retry of the same transaction can clear, beside connection loss: serialization
 * failure and deadlock (another transaction won), a read-only transaction (a failover promoting a standby, or
 * the database set read-only for maintenance), a lock not available.
 */
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '25006', '55P03']);

export function isRetriable(error: unknown): boolean {
  if (error instanceof ProcessingError) return error.retriable;
  if (isConnectionError(error)) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TRANSIENT_SQLSTATES.has(code)) return true;
  const e = error as { retriable?: boolean; name?: string };
  // The Kafka client marks transient protocol errors `retriable`; any Kafka error is worth a retry, since a
  // fenced or broken producer is recreated on retry (KafkaJSError, LibrdKafkaError: the client's two names).
  if (e?.retriable === true) return true;
  if (e?.name && /Kafka/.test(e.name)) return true;
  return false;
}

/** Exponential back-off: 200 ms, 400 ms, … capped at 10 s. */
export function backoffMs(attempt: number): number {
  return Math.min(10000, 200 * 2 ** Math.min(attempt, 10));
}

/**
 * backoffMs with "equal jitter": half of it fixed, half random. Partitions that failed together (Postgres
 * restarted under all of them) then retry spread out instead of all at once.
 */
export function jitteredBackoffMs(attempt: number, random: () => number = Math.random): number {
  const base = backoffMs(attempt);
  return Math.round(base / 2 + random() * (base / 2));
}
