import { MAX_REPORTED_VIOLATIONS, NDJSON, parseEventBatch } from './event-batch-parser';

const JSON_TYPE = 'application/json';
const T0 = Date.UTC(2026, 0, 31, 12, 0, 0);

function ev(eventId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { eventId, occurredAt: T0, accountId: 'acc-1', amount: 10, currency: 'EUR', merchantId: 'm-1', ...overrides };
}

/** The normalised event the validator returns for `ev(id)`. */
function accepted(eventId: string): Record<string, unknown> {
  return { eventId, occurredAt: T0, accountId: 'acc-1', amount: 10, currency: 'EUR', merchantId: 'm-1' };
}

const ndjson = (...items: unknown[]) => items.map((i) => JSON.stringify(i)).join('\n');

describe('parseEventBatch', () => {
  describe('application/json', () => {
    it('accepts a single object as a batch of one', () => {
      expect(parseEventBatch(JSON.stringify(ev('e1', { occurredAt: '2026-01-31T12:00:00Z' })), JSON_TYPE, 10))
        .toEqual({ kind: 'ok', events: [accepted('e1')] });
    });

    it('accepts an array, keeping the order', () => {
      expect(parseEventBatch(JSON.stringify([ev('e1'), ev('e2'), ev('e3')]), JSON_TYPE, 10))
        .toEqual({ kind: 'ok', events: [accepted('e1'), accepted('e2'), accepted('e3')] });
    });

    it('treats any other content type like JSON', () => {
      expect(parseEventBatch(JSON.stringify(ev('e1')), '', 10)).toEqual({ kind: 'ok', events: [accepted('e1')] });
    });

    it.each([[''], ['   '], ['\n\t\r\n']])('rejects the empty body %p', (body) => {
      expect(parseEventBatch(body, JSON_TYPE, 10)).toEqual({ kind: 'unparseable', message: 'the request body is empty' });
    });

    it('rejects an empty array', () => {
      expect(parseEventBatch('[]', JSON_TYPE, 10)).toEqual({ kind: 'unparseable', message: 'the request contains no events' });
    });

    it('rejects invalid JSON with the parser message', () => {
      const outcome = parseEventBatch('{"eventId": "e1",', JSON_TYPE, 10);
      expect(outcome).toEqual({ kind: 'unparseable', message: expect.stringMatching(/^the body is not valid JSON: .+/) });
    });

    it('rejects NDJSON sent as application/json as unparseable', () => {
      expect(parseEventBatch(ndjson(ev('e1'), ev('e2')), JSON_TYPE, 10)).toMatchObject({ kind: 'unparseable' });
    });

    it.each([
      ['null', 'null'], ['a string', '"e1"'], ['a number', '42'],
    ])('reports a body that is %s as an invalid event 0', (_name, body) => {
      expect(parseEventBatch(body, JSON_TYPE, 10)).toMatchObject({ kind: 'invalid', count: 1, violations: [{ index: 0, field: '' }] });
    });

    it('reports a nested array as an invalid event', () => {
      expect(parseEventBatch(JSON.stringify([[ev('e1')]]), JSON_TYPE, 10)).toEqual({
        kind: 'invalid', count: 1, invalidEvents: 1, violations: [{ index: 0, field: '', reason: 'event must be a JSON object, got array' }],
      });
    });
  });

  describe('application/x-ndjson', () => {
    it('accepts one object per line, ignoring blank and whitespace-only lines', () => {
      const body = `\n${JSON.stringify(ev('e1'))}\n\n   \n${JSON.stringify(ev('e2'))}\n`;
      expect(parseEventBatch(body, NDJSON, 10)).toEqual({ kind: 'ok', events: [accepted('e1'), accepted('e2')] });
    });

    it('accepts CRLF line endings', () => {
      const body = `${JSON.stringify(ev('e1'))}\r\n${JSON.stringify(ev('e2'))}\r\n`;
      expect(parseEventBatch(body, NDJSON, 10)).toEqual({ kind: 'ok', events: [accepted('e1'), accepted('e2')] });
    });

    it('names the first bad line, counting blank lines (1-based)', () => {
      const body = `${JSON.stringify(ev('e1'))}\n\n{"eventId": \n${JSON.stringify(ev('e2'))}\nnot json`;
      expect(parseEventBatch(body, NDJSON, 10)).toEqual({ kind: 'unparseable', message: expect.stringMatching(/^line 3 is not valid JSON: .+/) });
    });

    it('indexes violations by event position, not by line number', () => {
      const body = `\n\n${JSON.stringify(ev('e1'))}\n\n${JSON.stringify(ev('e2', { amount: -1 }))}`;
      expect(parseEventBatch(body, NDJSON, 10)).toEqual({
        kind: 'invalid', count: 2, invalidEvents: 1, violations: [{ index: 1, field: 'amount', reason: 'must be a finite number > 0 and <= 1e15' }],
      });
    });

    it.each([[''], ['\n\n'], ['  \r\n \n']])('rejects the body %p as containing no events', (body) => {
      expect(parseEventBatch(body, NDJSON, 10)).toEqual({ kind: 'unparseable', message: 'the request contains no events' });
    });

    it('reports a JSON array on one line as one invalid event', () => {
      expect(parseEventBatch(JSON.stringify([ev('e1'), ev('e2')]), NDJSON, 10)).toEqual({
        kind: 'invalid', count: 1, invalidEvents: 1, violations: [{ index: 0, field: '', reason: 'event must be a JSON object, got array' }],
      });
    });
  });

  describe('batch size limit', () => {
    const batch = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ev(`e${i}`)));

    it('accepts exactly the limit', () => {
      const outcome = parseEventBatch(batch(3), JSON_TYPE, 3);
      expect(outcome.kind === 'ok' && outcome.events.map((e) => e.eventId)).toEqual(['e0', 'e1', 'e2']);
    });

    it('rejects limit + 1 as too-many, before validating anything', () => {
      expect(parseEventBatch(batch(4), JSON_TYPE, 3)).toEqual({ kind: 'too-many', count: 4, limit: 3 });
      expect(parseEventBatch(JSON.stringify([{}, {}, {}, {}]), JSON_TYPE, 3)).toEqual({ kind: 'too-many', count: 4, limit: 3 });
    });

    it('counts NDJSON lines, not bytes', () => {
      expect(parseEventBatch(ndjson(ev('a'), ev('b')), NDJSON, 1)).toEqual({ kind: 'too-many', count: 2, limit: 1 });
    });
  });

  describe('hostile bodies', () => {
    it('lists at most MAX_REPORTED_VIOLATIONS problems and says how many were left out', () => {
      const unknown = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`x${i}`, 0]));
      const outcome = parseEventBatch(JSON.stringify([ev('a', unknown), ev('b', { amount: 0 })]), JSON_TYPE, 10);
      expect(outcome).toMatchObject({ kind: 'invalid', count: 2, invalidEvents: 2, omitted: 3001 - MAX_REPORTED_VIOLATIONS });
      expect(outcome.kind === 'invalid' && outcome.violations).toHaveLength(MAX_REPORTED_VIOLATIONS);
    });

    it('lists exactly MAX_REPORTED_VIOLATIONS problems without `omitted`', () => {
      const unknown = Object.fromEntries(Array.from({ length: MAX_REPORTED_VIOLATIONS }, (_, i) => [`x${i}`, 0]));
      const outcome = parseEventBatch(JSON.stringify(ev('a', unknown)), JSON_TYPE, 10);
      expect(outcome.kind === 'invalid' && outcome.violations).toHaveLength(MAX_REPORTED_VIOLATIONS);
      expect(outcome).not.toHaveProperty('omitted');
    });

    it.each([
      ['deeply nested arrays', `${'['.repeat(200_000)}${']'.repeat(200_000)}`, 'invalid'],
      ['deeply nested objects, unterminated', '{"a":'.repeat(200_000), 'unparseable'],
      ['a number beyond double range (Infinity)', JSON.stringify(ev('e1')).replace('"amount":10', '"amount":1e400'), 'invalid'],
      ['NaN as a bare word', JSON.stringify(ev('e1')).replace('"amount":10', '"amount":NaN'), 'unparseable'],
      ['a huge array of numbers', `[${'0,'.repeat(200_000)}0]`, 'too-many'],
    ])('answers %s with a value, not an exception', (_name, body, kind) => {
      expect(parseEventBatch(body, JSON_TYPE, 1000).kind).toBe(kind);
      expect(parseEventBatch(body, NDJSON, 1000).kind).toBe(kind === 'too-many' ? 'invalid' : kind);
    });

    it('rejects 1e400 as a non-finite amount (422), not as unparseable', () => {
      expect(parseEventBatch(JSON.stringify(ev('e1')).replace('"amount":10', '"amount":1e400'), JSON_TYPE, 10)).toMatchObject({
        kind: 'invalid', violations: [{ index: 0, field: 'amount', reason: 'must be a finite number > 0 and <= 1e15' }],
      });
    });
  });

  describe('invalid events', () => {
    it('rejects the whole batch when any event is invalid, reporting every violation of every event', () => {
      const body = JSON.stringify([ev('e0'), ev('e1', { currency: 'eur' }), ev('e2'), { eventId: 'e3', amount: 0 }]);
      expect(parseEventBatch(body, JSON_TYPE, 10)).toEqual({
        kind: 'invalid',
        count: 4,
        invalidEvents: 2,
        violations: [
          { index: 1, field: 'currency', reason: 'must be an ISO 4217 code of 3 upper-case letters' },
          { index: 3, field: 'accountId', reason: 'is required' },
          { index: 3, field: 'merchantId', reason: 'is required' },
          { index: 3, field: 'occurredAt', reason: 'is required' },
          { index: 3, field: 'amount', reason: 'must be a finite number > 0 and <= 1e15' },
          { index: 3, field: 'currency', reason: 'is required' },
        ],
      });
    });

    it('reports a repeated eventId, pointing at the first occurrence', () => {
      const body = JSON.stringify([ev('dup'), ev('other'), ev('dup', { amount: 99 }), ev('dup')]);
      expect(parseEventBatch(body, JSON_TYPE, 10)).toEqual({
        kind: 'invalid',
        count: 4,
        invalidEvents: 2,
        violations: [
          { index: 2, field: 'eventId', reason: 'duplicates event 0 of this request' },
          { index: 3, field: 'eventId', reason: 'duplicates event 0 of this request' },
        ],
      });
    });

    it('treats eventIds as case-sensitive', () => {
      expect(parseEventBatch(JSON.stringify([ev('abc'), ev('ABC')]), JSON_TYPE, 10)).toMatchObject({ kind: 'ok' });
    });

    it('reports duplicates alongside other violations', () => {
      const body = ndjson(ev('x'), ev('x'), ev('y', { country: 'germany' }));
      expect(parseEventBatch(body, NDJSON, 10)).toEqual({
        kind: 'invalid',
        count: 3,
        invalidEvents: 2,
        violations: [
          { index: 1, field: 'eventId', reason: 'duplicates event 0 of this request' },
          { index: 2, field: 'country', reason: 'must be an ISO 3166-1 alpha-2 code of 2 upper-case letters' },
        ],
      });
    });
  });
});
