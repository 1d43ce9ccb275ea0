import { backoffMs, errorCause, errorCode, isPoisonSuspect, isRetriable, jitteredBackoffMs, OwnershipLostError, PoisonRecordError, ProcessingError } from './processing-error';

function withCode(code: string, message = 'failed'): Error {
  return Object.assign(new Error(message), { code });
}

describe('ProcessingError', () => {
  it('carries code, message, retriable and its class name', () => {
    const error = new ProcessingError('DB_DOWN', 'database unreachable', true);
    expect(error).toBeInstanceOf(Error);
    expect([error.name, error.code, error.message, error.retriable]).toEqual(['ProcessingError', 'DB_DOWN', 'database unreachable', true]);
  });

  it('PoisonRecordError is a non-retriable ProcessingError', () => {
    const error = new PoisonRecordError('INVALID_JSON', 'value is not JSON');
    expect(error).toBeInstanceOf(ProcessingError);
    expect([error.name, error.code, error.message, error.retriable]).toEqual(['PoisonRecordError', 'INVALID_JSON', 'value is not JSON', false]);
  });
});

describe('isRetriable', () => {
  it.each([
    ['a retriable ProcessingError', new ProcessingError('X', 'm', true)],
    ['Postgres 08006 connection_failure', withCode('08006')],
    ['Postgres 08001 unable to connect', withCode('08001')],
    ['Postgres 57P01 admin_shutdown', withCode('57P01')],
    ['Postgres 57P02 crash_shutdown', withCode('57P02')],
    ['Postgres 57P03 cannot_connect_now', withCode('57P03')],
    ['Postgres 53300 too_many_connections', withCode('53300')],
    ['Postgres 40001 serialization_failure', withCode('40001')],
    ['Postgres 40P01 deadlock_detected', withCode('40P01')],
    ['Postgres 25006 read_only_sql_transaction (failover, read-only maintenance)', withCode('25006')],
    ['Postgres 55P03 lock_not_available', withCode('55P03')],
    ['Postgres 57014 query_canceled by a statement timeout', withCode('57014', 'canceling statement due to statement timeout')],
    ['ECONNREFUSED', withCode('ECONNREFUSED')],
    ['ECONNRESET', withCode('ECONNRESET')],
    ['ETIMEDOUT', withCode('ETIMEDOUT')],
    ['EPIPE', withCode('EPIPE')],
    ['ENOTFOUND', withCode('ENOTFOUND')],
    ['EHOSTUNREACH', withCode('EHOSTUNREACH')],
    ['pg "Connection terminated unexpectedly"', new Error('Connection terminated unexpectedly')],
    ['pg "Client has encountered a connection error and is not queryable"', new Error('Client has encountered a connection error and is not queryable')],
    ['a query timeout', new Error('Query read timeout')],
    ['an object marked retriable (the Kafka client)', { name: 'SomeError', retriable: true }],
    ['any KafkaJS error by name, even one marked not retriable', Object.assign(new Error('fenced'), { name: 'KafkaJSNonRetriableError', retriable: false })],
    ['a librdkafka error by name', Object.assign(new Error('Local: Timed out'), { name: 'LibrdKafkaError', code: -185 })],
  ])('true for %s', (_name, error) => {
    expect(isRetriable(error)).toBe(true);
  });

  it.each([
    ['a PoisonRecordError, even if its message mentions a timeout', new PoisonRecordError('INVALID_EVENT', 'timeout field is invalid')],
    ['a non-retriable ProcessingError with a connection-like code', Object.assign(new ProcessingError('08006', 'm', false), { code: '08006' })],
    ['Postgres 23505 unique_violation', withCode('23505', 'duplicate key value violates unique constraint')],
    ['Postgres 22P02 invalid_text_representation', withCode('22P02', 'invalid input syntax')],
    ['Postgres 57014 query_canceled without "timeout" in the message', withCode('57014', 'canceling statement due to user request')],
    ['a plain Error', new Error('boom')],
    ['an object marked retriable: false', { name: 'Other', retriable: false }],
    ['null', null],
    ['undefined', undefined],
    ['a string', 'ECONNREFUSED'],
  ])('false for %s', (_name, error) => {
    expect(isRetriable(error)).toBe(false);
  });
});

describe('backoffMs', () => {
  it('doubles from 200 ms and caps at 10 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(backoffMs)).toEqual([200, 400, 800, 1600, 3200, 6400, 10000, 10000]);
  });

  it('stays at the cap for large attempt counts (no overflow to Infinity)', () => {
    expect(backoffMs(10)).toBe(10000);
    expect(backoffMs(1000)).toBe(10000);
    expect(backoffMs(Number.MAX_SAFE_INTEGER)).toBe(10000);
  });
});

describe('jitteredBackoffMs', () => {
  it('lies between half and all of backoffMs: half fixed, half random', () => {
    expect([0, 3, 10].map((n) => jitteredBackoffMs(n, () => 0))).toEqual([100, 800, 5000]);
    expect([0, 3, 10].map((n) => jitteredBackoffMs(n, () => 1))).toEqual([200, 1600, 10000]);
    expect(jitteredBackoffMs(3, () => 0.5)).toBe(1200);
  });
});

describe('the error policy: retriable, lost ownership, or poison', () => {
  const pg = (code: string, detail?: string) => Object.assign(new Error('failed'), { code, severity: 'ERROR', ...(detail ? { detail } : {}) });
  it.each([
    ['a handler bug (TypeError)', new TypeError('x is undefined'), true],
    ['Postgres 22012 division_by_zero', pg('22012'), true],
    ['Postgres 23505 unique_violation', pg('23505'), true],
    ['a poison record', new PoisonRecordError('INVALID_JSON', 'm'), true],
    ['Postgres 40001 (retriable)', pg('40001'), false],
    ['Postgres 25006 read-only (retriable)', pg('25006'), false],
    ['a Kafka error (retriable)', Object.assign(new Error('Local: Broker transport failure'), { name: 'LibrdKafkaError', code: -195 }), false],
    ['lost ownership', new OwnershipLostError('epoch 3 in Postgres, 2 in memory'), false],
  ])('%s → poison suspect: %s', (_, error, suspect) => {
    expect(isPoisonSuspect(error)).toBe(suspect);
  });

  it('names the code and the cause: SQLSTATE with detail, Kafka error type, else the error name', () => {
    expect([errorCode(pg('22003', 'value 1e99')), errorCause(pg('22003', 'value 1e99'))]).toEqual(['22003', 'postgres SQLSTATE 22003: value 1e99']);
    const kafka = Object.assign(new Error('Broker: Message size too large'), { name: 'LibrdKafkaError', code: 10 });
    expect([errorCode(kafka), errorCause(kafka)]).toEqual(['10', 'kafka LibrdKafkaError 10']);
    expect([errorCode(new TypeError('x')), errorCause(new TypeError('x'))]).toEqual(['TypeError', undefined]);
  });
});
