import { decodeUtf8, unsupportedEncoding } from './body-parsers';

const request = (headers: Record<string, string>) => ({ headers });

/** Status and JSON body of the refusal, or undefined. */
function refusal(headers: Record<string, string>): { status: number; body: unknown } | undefined {
  const error = unsupportedEncoding(request(headers));
  return error && { status: error.getStatus(), body: error.getResponse() };
}

describe('unsupportedEncoding (checked before the body is read)', () => {
  it.each([
    ['no Content-Encoding, no charset', { 'content-type': 'application/json' }],
    ['charset=utf-8', { 'content-type': 'application/json; charset=utf-8' }],
    ['charset="UTF-8" quoted, upper case', { 'content-type': 'application/x-ndjson;charset="UTF-8"' }],
    ['charset=utf8', { 'content-type': 'application/json; charset=utf8' }],
    ['Content-Encoding: identity', { 'content-type': 'application/json', 'content-encoding': 'identity' }],
  ])('lets %s through', (_name, headers) => {
    expect(refusal(headers)).toBeUndefined();
  });

  it.each(['gzip', 'br', 'deflate', 'gzip, identity', ''])('refuses Content-Encoding %p with 415', (encoding) => {
    expect(refusal({ 'content-type': 'application/json', 'content-encoding': encoding })).toEqual({
      status: 415, body: { error: { code: 'UNSUPPORTED_CONTENT_ENCODING', message: expect.stringContaining('send the body uncompressed') } },
    });
  });

  it.each(['latin1', 'utf-16', 'iso-8859-1', ''])('refuses charset %p with 415', (charset) => {
    expect(refusal({ 'content-type': `application/json; charset=${charset}` })).toEqual({
      status: 415, body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.stringContaining('send UTF-8') } },
    });
  });

  it('quotes at most 50 characters of a hostile header value', () => {
    const { body } = refusal({ 'content-type': 'application/json', 'content-encoding': 'x'.repeat(10_000) })!;
    expect(JSON.stringify(body).length).toBeLessThan(200);
  });
});

describe('decodeUtf8', () => {
  it('decodes UTF-8, multi-byte characters included, and drops a leading BOM', () => {
    expect(decodeUtf8(Buffer.from('{"m":"Zürich 東京 😀"}'))).toBe('{"m":"Zürich 東京 😀"}');
    expect(decodeUtf8(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))).toBe('{}');
  });

  it.each([
    ['a lone continuation byte', [0x22, 0x80, 0x22]],
    ['0xFF', [0x22, 0xff, 0x22]],
    ['a truncated 3-byte sequence', [0x22, 0xe6, 0x9d, 0x22]],
    ['an overlong encoding of "/"', [0xc0, 0xaf]],
    ['an encoded surrogate (CESU-8)', [0xed, 0xa0, 0x80]],
  ])('returns undefined for %s', (_name, bytes) => {
    expect(decodeUtf8(Buffer.from(bytes))).toBeUndefined();
  });

  it('is not confused by a Buffer that is a view into a larger pool', () => {
    const pool = Buffer.from('xx{"a":1}yy');
    expect(decodeUtf8(pool.subarray(2, 9))).toBe('{"a":1}');
  });
});
