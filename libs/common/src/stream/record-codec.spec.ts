import type { InboundRecord } from '../kafka/kafka.port';
import { DLQ_HEADERS, DLQ_MAX_KEY_AND_HEADER_BYTES, DLQ_MAX_VALUE_BYTES, MAX_RECORD_BYTES } from '../contracts/messages';
import { PoisonRecordError, ProcessingError } from './processing-error';
import { decodeJsonRecord, toDlqRecord } from './record-codec';

function record(value: Buffer | string | null, overrides: Partial<InboundRecord> = {}): InboundRecord {
  return {
    topic: 'events.raw', partition: 3, offset: '41', key: 'acc-1',
    value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value,
    headers: {}, timestamp: 1_769_860_800_000, ...overrides,
  };
}

const identity = (json: Record<string, unknown>) => json;

/** The PoisonRecordError thrown by `fn`, or a failed test. */
function poisonOf(fn: () => unknown): PoisonRecordError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PoisonRecordError);
    return error as PoisonRecordError;
  }
  throw new Error('expected a PoisonRecordError');
}

describe('decodeJsonRecord', () => {
  it('returns the validated value with the record coordinates', () => {
    const decoded = decodeJsonRecord(record('{"schemaVersion":1,"n":2}'), (json) => ({ n: json.n as number }));
    expect(decoded).toEqual({ key: 'acc-1', value: { n: 2 }, topic: 'events.raw', partition: 3, offset: '41', timestamp: 1_769_860_800_000 });
  });

  it('keeps a null key', () => {
    expect(decodeJsonRecord(record('{"schemaVersion":1}', { key: null }), identity).key).toBeNull();
  });

  it.each([
    ['a null value', null],
    ['an empty value', Buffer.alloc(0)],
  ])('rejects %s as EMPTY_VALUE', (_name, value) => {
    const error = poisonOf(() => decodeJsonRecord(record(value), identity));
    expect({ code: error.code, message: error.message, retriable: error.retriable }).toEqual({ code: 'EMPTY_VALUE', message: 'record has no value', retriable: false });
  });

  it.each([
    ['truncated JSON', '{"schemaVersion":1'],
    ['plain text', 'hello'],
    ['whitespace only', '   '],
    ['non-UTF-8 bytes', Buffer.from([0xff, 0xfe, 0x00, 0x7b])],
  ])('rejects %s as INVALID_JSON with the parser message', (_name, value) => {
    const error = poisonOf(() => decodeJsonRecord(record(value), identity));
    expect(error.code).toBe('INVALID_JSON');
    expect(error.message).toMatch(/^value is not JSON: .+/);
  });

  it.each([['an array', '[{"schemaVersion":1}]'], ['a string', '"x"'], ['a number', '1'], ['null', 'null']])(
    'rejects %s as NOT_AN_OBJECT',
    (_name, value) => {
      const error = poisonOf(() => decodeJsonRecord(record(value), identity));
      expect([error.code, error.message]).toEqual(['NOT_AN_OBJECT', 'value is not a JSON object']);
    },
  );

  it.each([
    ['missing', '{"a":1}', 'schemaVersion undefined is not one of 1'],
    ['unknown', '{"schemaVersion":2}', 'schemaVersion 2 is not one of 1'],
    ['a string', '{"schemaVersion":"1"}', 'schemaVersion "1" is not one of 1'],
    ['null', '{"schemaVersion":null}', 'schemaVersion null is not one of 1'],
  ])('rejects a schemaVersion that is %s as UNSUPPORTED_SCHEMA_VERSION', (_name, value, message) => {
    const error = poisonOf(() => decodeJsonRecord(record(value), identity));
    expect([error.code, error.message]).toEqual(['UNSUPPORTED_SCHEMA_VERSION', message]);
  });

  it('accepts any of the supported versions and lists them in the error', () => {
    expect(decodeJsonRecord(record('{"schemaVersion":2}'), identity, [1, 2]).value).toEqual({ schemaVersion: 2 });
    expect(poisonOf(() => decodeJsonRecord(record('{"schemaVersion":3}'), identity, [1, 2])).message).toBe('schemaVersion 3 is not one of 1, 2');
  });

  it('rejects a record over MAX_RECORD_BYTES (key, headers and value) as RECORD_TOO_LARGE without parsing it; accepts one at the limit', () => {
    const padded = (bytes: number) => { const head = '{"schemaVersion":1,"pad":"'; return `${head}${'x'.repeat(bytes - head.length - 2)}"}`; };
    const keyAndHeaders = Buffer.byteLength('acc-1') + Buffer.byteLength('h') + Buffer.byteLength('vé');
    expect(decodeJsonRecord(record(padded(MAX_RECORD_BYTES - keyAndHeaders), { headers: { h: 'vé' } }), identity).value).toMatchObject({ schemaVersion: 1 });
    const over = (overrides: Partial<InboundRecord>, value: string) => poisonOf(() => decodeJsonRecord(record(value, overrides), identity));
    expect([over({}, padded(MAX_RECORD_BYTES)).code, over({}, padded(MAX_RECORD_BYTES)).message])
      .toEqual(['RECORD_TOO_LARGE', `record is ${MAX_RECORD_BYTES + 5} bytes (key, headers and value); at most ${MAX_RECORD_BYTES} are processed`]);
    // A small value does not help when the key or the headers are huge.
    expect(over({ key: 'k'.repeat(MAX_RECORD_BYTES) }, '{"schemaVersion":1}').code).toBe('RECORD_TOO_LARGE');
    expect(over({ headers: { big: '€'.repeat(MAX_RECORD_BYTES / 3) } }, '{"schemaVersion":1}').code).toBe('RECORD_TOO_LARGE');
  });

  it.each([
    ['U+0000 in a field', '{"schemaVersion":1,"accountId":"a\\u0000b"}', 'accountId'],
    ['a lone high surrogate', '{"schemaVersion":1,"merchantId":"m-\\ud800"}', 'merchantId'],
    ['a lone low surrogate, upper-case escape', '{"schemaVersion":1,"eventId":"\\uDC00-e"}', 'eventId'],
    ['swapped surrogate halves', '{"schemaVersion":1,"eventId":"\\udc00\\ud83d"}', 'eventId'],
    ['U+0000 deep inside', '{"schemaVersion":1,"account":{"tags":["ok",{"note":"\\u0000"}]}}', 'account.tags[1].note'],
    ['U+0000 in a key', '{"schemaVersion":1,"attributes":{"k\\u0000":1}}', 'attributes.(a key)'],
  ])('rejects %s as UNSTORABLE_TEXT, naming where, before the validator runs', (_name, value, path) => {
    const validate = jest.fn(identity);
    const error = poisonOf(() => decodeJsonRecord(record(value), validate));
    expect([error.code, error.message]).toEqual(['UNSTORABLE_TEXT', `${path} contains U+0000 or an unpaired surrogate, which Postgres cannot store`]);
    expect(validate).not.toHaveBeenCalled();
  });

  it.each([
    ['a surrogate pair (emoji) as an escape', '{"schemaVersion":1,"note":"\\ud83d\\ude00"}'],
    ['an emoji as UTF-8', '{"schemaVersion":1,"note":"😀"}'],
    ['an escaped backslash before u0000 (the text \\u0000, not U+0000)', '{"schemaVersion":1,"note":"\\\\u0000"}'],
    ['other escapes', '{"schemaVersion":1,"note":"tab\\t \\u00e9 \\u001f"}'],
    ['bytes that are not UTF-8 inside a string (decoded as U+FFFD)', Buffer.from([...Buffer.from('{"schemaVersion":1,"note":"'), 0xed, 0xa0, 0x80, ...Buffer.from('"}')])],
  ])('accepts %s', (_name, value) => {
    expect(decodeJsonRecord(record(value), identity).value).toMatchObject({ schemaVersion: 1 });
  });

  it('does not call the validator for an undecodable record and propagates its errors otherwise', () => {
    const validate = jest.fn(() => { throw new PoisonRecordError('INVALID_EVENT', 'amount is required'); });
    poisonOf(() => decodeJsonRecord(record('nope'), validate));
    expect(validate).not.toHaveBeenCalled();
    const error = poisonOf(() => decodeJsonRecord(record('{"schemaVersion":1}'), validate));
    expect([error.code, error.message]).toEqual(['INVALID_EVENT', 'amount is required']);
    expect(validate).toHaveBeenCalledWith({ schemaVersion: 1 });
  });
});

describe('toDlqRecord', () => {
  const NOW = Date.UTC(2026, 0, 31, 12, 0, 0, 5);

  it('keeps key, value and original headers and adds every origin header', () => {
    const original = record('{"schemaVersion":9}', { headers: { traceparent: '00-abc-01', 'x-tenant': 't1' } });
    const dlq = toDlqRecord('events.dlq', original, 'streamguard.enrich', new PoisonRecordError('UNSUPPORTED_SCHEMA_VERSION', 'schemaVersion 9 is not one of 1'), NOW);
    expect(dlq).toEqual({
      topic: 'events.dlq',
      key: 'acc-1',
      value: Buffer.from('{"schemaVersion":9}'),
      headers: {
        traceparent: '00-abc-01',
        'x-tenant': 't1',
        'x-origin-topic': 'events.raw',
        'x-origin-partition': '3',
        'x-origin-offset': '41',
        'x-origin-timestamp': '1769860800000',
        'x-consumer-group': 'streamguard.enrich',
        'x-error-class': 'PoisonRecordError',
        'x-error-code': 'UNSUPPORTED_SCHEMA_VERSION',
        'x-error-message': 'schemaVersion 9 is not one of 1',
        'x-failed-at': '2026-01-31T12:00:00.005Z',
      },
    });
    // The header names are the contract's, not literals that happen to match.
    const { valueTruncatedFrom, keyAndHeadersDropped, ...always } = DLQ_HEADERS; // only on a cut copy (below)
    expect(Object.keys(dlq.headers!)).toEqual(expect.arrayContaining(Object.values(always)));
    expect(dlq.headers).not.toHaveProperty(valueTruncatedFrom);
    expect(dlq.headers).not.toHaveProperty(keyAndHeadersDropped);
  });

  it('carries the original value byte for byte, including bytes that are not valid UTF-8', () => {
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0xc3, 0x28, 0x7b, 0x80]);
    const dlq = toDlqRecord('events.dlq', record(bytes), 'g', new Error('x'), NOW);
    expect(Buffer.isBuffer(dlq.value)).toBe(true);
    expect([...(dlq.value as Buffer)]).toEqual([0x00, 0xff, 0xfe, 0xc3, 0x28, 0x7b, 0x80]);
  });

  it('uses an empty value for a record without one and keeps a null key', () => {
    const dlq = toDlqRecord('events.dlq', record(null, { key: null }), 'g', new Error('x'), NOW);
    expect(dlq.key).toBeNull();
    expect(dlq.value).toEqual(Buffer.alloc(0));
  });

  it('overwrites stale origin headers of a record that was replayed from the DLQ', () => {
    const replayed = record('{}', { headers: { 'x-origin-topic': 'old', 'x-error-code': 'OLD', keep: 'me' } });
    const headers = toDlqRecord('events.dlq', replayed, 'g', new ProcessingError('NEW', 'm', false), NOW).headers!;
    expect([headers['x-origin-topic'], headers['x-error-code'], headers.keep]).toEqual(['events.raw', 'NEW', 'me']);
  });

  it.each([
    ['a plain Error', new Error('boom'), 'Error', 'UNKNOWN'],
    ['a TypeError', new TypeError('bad'), 'TypeError', 'UNKNOWN'],
    ['an error with a numeric code', Object.assign(new Error('pg'), { code: 23505 }), 'Error', '23505'],
    ['a ProcessingError', new ProcessingError('DB_DOWN', 'down', true), 'ProcessingError', 'DB_DOWN'],
  ])('names the error class and code of %s', (_name, error, errorClass, errorCode) => {
    const headers = toDlqRecord('events.dlq', record('{}'), 'g', error, NOW).headers!;
    expect([headers['x-error-class'], headers['x-error-code']]).toEqual([errorClass, errorCode]);
  });

  it('replaces U+0000 and unpaired surrogates in headers and the error message (they travel through jsonb)', () => {
    const dlq = toDlqRecord('events.dlq', record('x', { headers: { 'h\u0000': 'v\ud800' } }), 'g', new Error('bad \udc00 and \u0000'), NOW);
    expect(dlq.headers).toMatchObject({ 'h\uFFFD': 'v\uFFFD', [DLQ_HEADERS.errorMessage]: 'bad \uFFFD and \uFFFD' });
    // A pair is valid text and stays.
    expect(toDlqRecord('events.dlq', record('x'), 'g', new Error('😀'), NOW).headers).toMatchObject({ [DLQ_HEADERS.errorMessage]: '😀' });
  });

  it('cuts a value over DLQ_MAX_VALUE_BYTES to its first DLQ_MAX_VALUE_BYTES and says how big it was; a value at the limit stays whole', () => {
    const big = Buffer.alloc(DLQ_MAX_VALUE_BYTES + 10, 0x61);
    const cut = toDlqRecord('events.dlq', record(big), 'g', new PoisonRecordError('RECORD_TOO_LARGE', 'too big'), NOW);
    expect([(cut.value as Buffer).length, cut.headers?.[DLQ_HEADERS.valueTruncatedFrom], cut.key]).toEqual([DLQ_MAX_VALUE_BYTES, String(DLQ_MAX_VALUE_BYTES + 10), 'acc-1']);
    const whole = toDlqRecord('events.dlq', record(big.subarray(0, DLQ_MAX_VALUE_BYTES)), 'g', new Error('x'), NOW);
    expect([(whole.value as Buffer).length, whole.headers?.[DLQ_HEADERS.valueTruncatedFrom]]).toEqual([DLQ_MAX_VALUE_BYTES, undefined]);
  });

  it('leaves out the key and original headers when together they are over DLQ_MAX_KEY_AND_HEADER_BYTES, and says how big they were', () => {
    const headers = { a: 'x'.repeat(DLQ_MAX_KEY_AND_HEADER_BYTES) };
    const dlq = toDlqRecord('events.dlq', record('{}', { headers }), 'g', new Error('x'), NOW);
    expect(dlq.key).toBeNull();
    expect(dlq.headers).not.toHaveProperty('a');
    expect(dlq.headers).toMatchObject({ [DLQ_HEADERS.keyAndHeadersDropped]: String(DLQ_MAX_KEY_AND_HEADER_BYTES + 1 + 5), [DLQ_HEADERS.originOffset]: '41' });
    const atLimit = toDlqRecord('events.dlq', record('{}', { headers: { a: 'x'.repeat(DLQ_MAX_KEY_AND_HEADER_BYTES - 6) } }), 'g', new Error('x'), NOW);
    expect([atLimit.key, atLimit.headers?.[DLQ_HEADERS.keyAndHeadersDropped]]).toEqual(['acc-1', undefined]);
  });

  it('does not carry the notes of an earlier DLQ copy along when a record replayed from the DLQ fails again', () => {
    const replayed = toDlqRecord('events.dlq', record('x', { headers: { [DLQ_HEADERS.valueTruncatedFrom]: '999999', [DLQ_HEADERS.keyAndHeadersDropped]: '5' } }), 'g', new Error('x'), NOW);
    expect(replayed.headers).not.toHaveProperty(DLQ_HEADERS.valueTruncatedFrom);
    expect(replayed.headers).not.toHaveProperty(DLQ_HEADERS.keyAndHeadersDropped);
  });

  it('truncates the error message to 1000 characters', () => {
    const headers = toDlqRecord('events.dlq', record('{}'), 'g', new Error('e'.repeat(1001)), NOW).headers!;
    expect(headers['x-error-message']).toBe('e'.repeat(1000));
  });

  it('does not mutate the original record headers', () => {
    const original = record('{}', { headers: { a: '1' } });
    toDlqRecord('events.dlq', original, 'g', new Error('x'), NOW);
    expect(original.headers).toEqual({ a: '1' });
  });
});
