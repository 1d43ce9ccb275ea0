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

/** Another instance owns the partition now (a newer ownership epoch, a fenced producer): drop state, reload. */
export class OwnershipLostError extends ProcessingError {
  constructor(message: string) {
    super('OWNERSHIP_LOST', message, false);
    this.name = 'OwnershipLostError';
  }
}

/**
 * Postgres errors that a retry of the same transaction can clear, beside connection loss: serialization
 * failure and deadlock (another transaction won), a read-only transaction (a failover promoting a standby, or
 * the database set read-only for maintenance), a lock not available. (A statement timeout, 57014, is a
 * connection-like "timeout" by its message; a cancel by an operator is not, and is re-run by the isolation.)
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

/**
 * The error policy's third case: neither retriable nor lost ownership, so retrying the same records would fail
 * the same way forever (a handler that throws, a Postgres data or constraint error, a bug). The stage then
 * isolates the record that causes it (bisection) and dead-letters it.
 */
export function isPoisonSuspect(error: unknown): boolean {
  return !isRetriable(error) && !(error instanceof OwnershipLostError);
}

/** A stable code for the DLQ and metrics: the SQLSTATE, the Kafka error code, or the error's own code or name. */
export function errorCode(error: unknown): string {
  const e = error as { code?: unknown; type?: unknown; name?: unknown } | null;
  return String(e?.code ?? e?.type ?? e?.name ?? 'UNKNOWN');
}

/** Where the error came from, when that is not in its message: `postgres SQLSTATE 22003 (detail)`, `kafka LibrdKafkaError -185`. */
export function errorCause(error: unknown): string | undefined {
  const e = error as { code?: unknown; severity?: unknown; detail?: unknown; name?: unknown } | null;
  if (typeof e?.code === 'string' && typeof e.severity === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
    return `postgres SQLSTATE ${e.code}${typeof e.detail === 'string' ? `: ${e.detail}` : ''}`;
  }
  if (typeof e?.name === 'string' && /Kafka/.test(e.name)) return `kafka ${e.name} ${String(e.code ?? '')}`.trim();
  return undefined;
}

/** The error a record isolated as poison is dead-lettered with: the failure's code, its message and cause. */
export function isolatedPoisonError(error: unknown): ProcessingError {
  const cause = errorCause(error);
  return new ProcessingError(errorCode(error), `${(error as Error).message}${cause ? ` (${cause})` : ''}`, false);
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
