import { ApiError } from './http-error.filter';
import { parseLimit, parseTimeParam, rejectUnknownParams } from './query-params';

/** The ApiError thrown by `fn` as `{status, body}`, or a failed test. */
function apiErrorOf(fn: () => unknown): { status: number; code: string; body: unknown } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    const e = error as ApiError;
    return { status: e.getStatus(), code: e.code, body: e.getResponse() };
  }
  throw new Error('expected an ApiError');
}

const T0 = Date.UTC(2026, 0, 31, 12, 0, 0);

describe('parseTimeParam', () => {
  it.each([[undefined], ['']])('treats %p as absent', (raw) => {
    expect(parseTimeParam('from', raw)).toBeUndefined();
  });

  it.each([
    [String(T0), T0],
    ['0', 0],
    ['2026-01-31T12:00:00Z', T0],
    ['2026-01-31T13:00:00+01:00', T0],
  ])('parses %p', (raw, expected) => {
    expect(parseTimeParam('from', raw)).toBe(expected);
  });

  it.each([
    ['an RFC 3339 time without offset', '2026-01-31T12:00:00'],
    ['a negative number', '-1'],
    ['a fractional number', '1769860800000.5'],
    ['digits beyond MAX_SAFE_INTEGER', '9007199254740993'],
    ['text', 'yesterday'],
  ])('rejects %s with a 400 naming the parameter', (_name, raw) => {
    expect(apiErrorOf(() => parseTimeParam('to', raw))).toEqual({
      status: 400,
      code: 'INVALID_PARAMETER',
      body: { error: { code: 'INVALID_PARAMETER', message: 'to must be an RFC 3339 date-time with offset or epoch milliseconds', details: undefined } },
    });
  });
});

describe('parseLimit', () => {
  it.each([[undefined], ['']])('falls back to the default for %p', (raw) => {
    expect(parseLimit(raw)).toBe(100);
    expect(parseLimit(raw, 25)).toBe(25);
  });

  it.each([['1', 1], ['1000', 1000], ['250', 250]])('accepts %p', (raw, expected) => {
    expect(parseLimit(raw)).toBe(expected);
  });

  it.each([['0'], ['1001'], ['-5'], ['2.5'], ['ten'], ['NaN'], ['Infinity']])('rejects %p with a 400', (raw) => {
    expect(apiErrorOf(() => parseLimit(raw))).toEqual({
      status: 400,
      code: 'INVALID_PARAMETER',
      body: { error: { code: 'INVALID_PARAMETER', message: 'limit must be an integer from 1 to 1000', details: undefined } },
    });
  });

  it('honours a custom maximum at its boundary', () => {
    expect(parseLimit('50', 10, 50)).toBe(50);
    expect(apiErrorOf(() => parseLimit('51', 10, 50)).body).toEqual({
      error: { code: 'INVALID_PARAMETER', message: 'limit must be an integer from 1 to 50', details: undefined },
    });
  });
});

describe('rejectUnknownParams', () => {
  it('accepts an empty query and allowed parameters', () => {
    expect(() => rejectUnknownParams({}, ['from'])).not.toThrow();
    expect(() => rejectUnknownParams({ from: '1', limit: '2' }, ['from', 'to', 'limit'])).not.toThrow();
  });

  it('rejects every unknown parameter in one 400 that lists the allowed ones', () => {
    expect(apiErrorOf(() => rejectUnknownParams({ from: '1', acount: 'a', limt: '5' }, ['from', 'accountId', 'limit']))).toEqual({
      status: 400,
      code: 'UNKNOWN_PARAMETER',
      body: { error: { code: 'UNKNOWN_PARAMETER', message: 'unknown query parameter(s): acount, limt; allowed: from, accountId, limit', details: undefined } },
    });
  });

  it('is case-sensitive', () => {
    expect(apiErrorOf(() => rejectUnknownParams({ From: '1' }, ['from'])).code).toBe('UNKNOWN_PARAMETER');
  });
});
