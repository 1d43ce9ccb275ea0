/**
 * Generators for ingest input tests, built with fast-check from the event contract (EVENT_LIMITS).
 *
 * - `validEventArb`: any event the contract accepts (every optional field, unicode within limits, edge
 *   values), with the exact value ingest must put on `events.raw` (`expected`).
 * - `hostilePayloads`: requests that must all be rejected with a 4xx. Every category guarantees rejection
 *   by construction (each request holds at least one event that breaks a rule, or is not an event batch at
 *   all), so a 202 in the fuzz test is a real hole, not a generator accident.
 */
import fc from 'fast-check';
import { EVENT_LIMITS, looksLikeCardNumber, TransactionEvent } from '@streamguard/common';
import { concatBytes, type RawRequest } from './raw-http';

const JSON_TYPE = 'application/json';
const NDJSON = 'application/x-ndjson';
const MIN_TIME = EVENT_LIMITS.minEventTimeMs;
const MAX_TIME = EVENT_LIMITS.maxEventTimeMs - 1;

// --- valid events -------------------------------------------------------------------------------------

/** Strings checkString accepts: 1..max UTF-16 units, no C0 control character or DEL, well-formed Unicode. */
function text(maxLength: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength }),
    fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength }),
    fc.constantFrom('a', 'x'.repeat(maxLength), 'Zürich 東京 😀', ' ', '0', '-'),
  ).map((s) => s.replace(/[\u0000-\u001f\u007f]/g, '_').slice(0, maxLength))
    // slice may cut a surrogate pair in half: drop the dangling half.
    .map((s) => s.replace(/[\uD800-\uDBFF]$/, ''))
    .filter((s) => s.length >= 1);
}

/** RFC 3339 text of `ms` in a given UTC offset (minutes), optionally with 0-9 fractional digits. */
function rfc3339(ms: number, offsetMinutes: number, fractionDigits: number): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString(); // yyyy-mm-ddThh:mm:ss.sssZ
  const base = local.slice(0, 19);
  const millis = local.slice(20, 23);
  const fraction = fractionDigits === 0 ? '' : `.${(millis + '000000').slice(0, fractionDigits)}`;
  if (offsetMinutes === 0) return `${base}${fraction}Z`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${base}${fraction}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

const occurredAtArb: fc.Arbitrary<{ sent: string | number; ms: number }> = fc.oneof(
  fc.integer({ min: MIN_TIME, max: MAX_TIME }).map((ms) => ({ sent: ms, ms })),
  fc.constantFrom(MIN_TIME, MAX_TIME).map((ms) => ({ sent: ms, ms })),
  fc.tuple(fc.integer({ min: MIN_TIME + 86_400_000, max: MAX_TIME - 86_400_000 }), fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }), fc.integer({ min: 0, max: 9 }))
    .map(([ms, offset, digits]) => {
      const kept = digits >= 3 ? ms : digits === 0 ? ms - (ms % 1000) : ms - (ms % 10 ** (3 - digits));
      return { sent: rfc3339(kept, offset, digits), ms: kept };
    }),
);

/** A finite double without -0 (JSON has no -0: it would come back as 0). */
const noNegativeZero = (d: number): number => (Object.is(d, -0) ? 0 : d);

const attributeKeyArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/)
  .filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k));
const attributeValueArb = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 100 }).map((s) => s.replace(/\u0000/g, '')),
  fc.constantFrom('', 'x'.repeat(EVENT_LIMITS.attributeValueMaxLength), 'tab\there', 'line\nbreak'),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(noNegativeZero),
  fc.integer(),
  fc.boolean(),
);

export interface GeneratedEvent {
  /** What is sent (occurredAt possibly as RFC 3339 text). */
  input: Record<string, unknown>;
  /** The normalised event ingest must produce. */
  expected: TransactionEvent;
}

/** Valid events; `eventId` gets `idPrefix` + a unique index when sampled through `validEvents`. */
export const validEventArb: fc.Arbitrary<Omit<GeneratedEvent, never>> = fc.record({
  occurredAt: occurredAtArb,
  accountId: text(EVENT_LIMITS.idMaxLength),
  merchantId: text(EVENT_LIMITS.idMaxLength),
  amount: fc.oneof(
    fc.double({ min: Number.MIN_VALUE, max: 1e15, noNaN: true }),
    fc.constantFrom(Number.MIN_VALUE, 0.01, 1, 1e15),
    fc.integer({ min: 1, max: 1_000_000 }),
  ),
  currency: fc.stringMatching(/^[A-Z]{3}$/),
  optional: fc.record({
    cardId: text(EVENT_LIMITS.idMaxLength).filter((s) => !looksLikeCardNumber(s)),
    deviceId: text(EVENT_LIMITS.idMaxLength),
    ipAddress: fc.oneof(fc.ipV4(), fc.ipV6()),
    country: fc.stringMatching(/^[A-Z]{2}$/),
    location: fc.record({
      lat: fc.oneof(fc.double({ min: -90, max: 90, noNaN: true }), fc.constantFrom(-90, 90, 0)).map(noNegativeZero),
      lon: fc.oneof(fc.double({ min: -180, max: 180, noNaN: true }), fc.constantFrom(-180, 180)).map(noNegativeZero),
    }),
    channel: text(32),
    attributes: fc.dictionary(attributeKeyArb, attributeValueArb, { maxKeys: EVENT_LIMITS.attributesMaxKeys }),
  }, { requiredKeys: [] }),
}).map(({ occurredAt, optional, ...required }) => {
  const input: Record<string, unknown> = { eventId: '', occurredAt: occurredAt.sent, ...required, ...optional };
  const expected = { eventId: '', ...required, ...optional, occurredAt: occurredAt.ms } as TransactionEvent;
  return { input, expected };
});

/** `count` valid events with unique eventIds `<idPrefix>-<i>-<generated>` (≤ 128 characters). */
export function validEvents(idPrefix: string, count: number, seed: number): GeneratedEvent[] {
  const suffixes = fc.sample(text(40), { seed: seed + 1, numRuns: count });
  return fc.sample(validEventArb, { seed, numRuns: count }).map((e, i) => {
    const eventId = `${idPrefix}-${i}-${suffixes[i]}`.slice(0, EVENT_LIMITS.idMaxLength).replace(/[\uD800-\uDBFF]$/, '');
    return { input: { ...e.input, eventId }, expected: { ...e.expected, eventId } };
  });
}

// --- hostile payloads ---------------------------------------------------------------------------------

export interface HostilePayload extends RawRequest {
  category: string;
}

/** A valid event (so that only the mutation applied to it can make a request fail). */
function base(id: string): Record<string, unknown> {
  return { eventId: id, occurredAt: Date.UTC(2026, 0, 31, 12), accountId: 'acc-fuzz', amount: 10, currency: 'EUR', merchantId: 'm-fuzz' };
}

const jsonType = fc.constantFrom(JSON_TYPE, `${JSON_TYPE}; charset=utf-8`, 'Application/JSON', NDJSON, `${NDJSON}; charset=UTF-8`);
const anyContentType = fc.oneof(
  jsonType,
  fc.constantFrom('text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', '', '*/*',
    'application/json-seq', 'application/jsonx', 'json', 'application/json; charset=latin1', 'application/json; charset=utf-16', ';;;', 'application/\u00e9'),
);

/** Serialises events as the content type expects (NDJSON: one per line, with blank lines and CRLF sometimes). */
function serialise(events: unknown[], contentType: string, variant: number): string {
  if (!contentType.toLowerCase().startsWith(NDJSON)) return variant % 2 === 0 && events.length === 1 ? JSON.stringify(events[0]) : JSON.stringify(events);
  const eol = variant % 3 === 0 ? '\r\n' : '\n';
  return (variant % 5 === 0 ? eol : '') + events.map((e) => JSON.stringify(e)).join(variant % 4 === 0 ? `${eol}${eol}  ${eol}` : eol) + (variant % 2 ? eol : '');
}

/** Requests built around one invalid event placed among valid ones. */
function withInvalidEvent(category: string, mutate: fc.Arbitrary<(event: Record<string, unknown>) => string | Record<string, unknown>>): fc.Arbitrary<HostilePayload> {
  return fc.tuple(mutate, jsonType, fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.nat(), fc.nat()).map(([m, contentType, before, after, variant, n]) => {
    const mutated = m(base(`fz-${category}-${n}-x`));
    const valid = (k: number) => base(`fz-${category}-${n}-${k}`);
    const events = [...Array.from({ length: before }, (_, k) => valid(k)), '__MUTATED__', ...Array.from({ length: after }, (_, k) => valid(before + k))];
    // The mutated event may be text (raw JSON tokens such as NaN or 1e400): splice it in as text.
    const placeholder = JSON.stringify('__MUTATED__');
    const mutatedText = typeof mutated === 'string' ? mutated : JSON.stringify(mutated);
    const body = serialise(events, contentType, variant).replace(placeholder, () => mutatedText);
    return { category, headers: { 'content-type': contentType }, body };
  });
}

const FIELDS = ['eventId', 'occurredAt', 'accountId', 'amount', 'currency', 'merchantId', 'cardId', 'deviceId', 'ipAddress', 'country', 'location', 'channel', 'attributes'];
const STRING_FIELDS = ['eventId', 'accountId', 'merchantId', 'cardId', 'deviceId', 'channel'];

const randomBytes: fc.Arbitrary<HostilePayload> = fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 4096 }), anyContentType)
  .map(([bytes, contentType]) => ({ category: 'random bytes', headers: { 'content-type': contentType }, body: bytes }));

const truncatedJson: fc.Arbitrary<HostilePayload> = fc.tuple(fc.constantFrom(JSON_TYPE, NDJSON), fc.integer({ min: 1, max: 4 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.nat())
  .map(([contentType, n, cut, id]) => {
    // Every event valid, the body cut inside the last event: the last line / the array is never valid JSON.
    const events = Array.from({ length: n }, (_, k) => ({ ...base(`fz-trunc-${id}-${k}`), attributes: { a: 'x', b: 1 } }));
    const full = contentType === NDJSON ? events.map((e) => JSON.stringify(e)).join('\n') : JSON.stringify(events.length === 1 ? events[0] : events);
    const lastStart = contentType === NDJSON ? full.lastIndexOf('\n') + 1 : 0;
    const end = lastStart + 1 + Math.floor(cut * (full.length - lastStart - 2)); // keeps ≥ 1 character, drops ≥ 1
    return { category: 'truncated JSON', headers: { 'content-type': contentType }, body: full.slice(0, end) };
  });

const deepNesting: fc.Arbitrary<HostilePayload> = fc.tuple(fc.integer({ min: 100, max: 200_000 }), fc.constantFrom('[', '{"a":'), fc.boolean(), fc.constantFrom('top', 'attributes', 'location', 'amount'), jsonType)
  .map(([depth, open, closed, where, contentType]) => {
    const close = open === '[' ? ']' : '}';
    const nested = open.repeat(depth) + (open === '[' ? '' : '1') + (closed ? close.repeat(depth) : '');
    const event = base(`fz-deep-${depth}`);
    const body = where === 'top' ? nested
      : JSON.stringify({ ...event, [where]: '__N__' }).replace('"__N__"', () => (where === 'location' ? `{"lat":${nested},"lon":1}` : where === 'attributes' ? `{"x":${nested}}` : nested));
    return { category: 'deep nesting', headers: { 'content-type': contentType }, body };
  });

const hugeNumbers = withInvalidEvent('huge numbers', fc.tuple(
  fc.constantFrom('amount', 'occurredAt', 'location.lat', 'location.lon', 'attributes.n'),
  fc.constantFrom('1e400', '-1e400', '1e309', '123456789012345678901234567890123456789', '1e16', '9007199254740993', '-0', '0', '1.5e-400', '1E+999', '-5'),
).map(([path, token]) => (event: Record<string, unknown>) => {
  // Only values the field rejects: every field refuses non-finite numbers (what 1e400 parses to); amount also
  // refuses ≤ 0 and > 1e15, lat/lon values beyond ±90/±180; any other token becomes 1e400 for the field.
  const value = Number(token);
  const rejected = !Number.isFinite(value)
    || (path === 'amount' && (value <= 0 || value > 1e15))
    || (path.startsWith('location') && Math.abs(value) > 90)
    || (path === 'occurredAt' && !Number.isSafeInteger(value));
  const [field, sub] = path.split('.');
  const shape = sub ? { ...event, [field]: field === 'location' ? { lat: 1, lon: 1, [sub]: '__T__' } : { [sub]: '__T__' } } : { ...event, [field]: '__T__' };
  return JSON.stringify(shape).replace('"__T__"', rejected ? token : '1e400');
}));

const nanInfinity = withInvalidEvent('NaN/Infinity', fc.tuple(
  fc.constantFrom('amount', 'occurredAt', 'location.lat', 'attributes.n'),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '"NaN"', '"Infinity"', '"-Infinity"', '"1e400"', 'undefined', 'null'),
).map(([path, token]) => (event: Record<string, unknown>) => {
  const [field, sub] = path.split('.');
  // attributes.n: null is rejected (not string/number/boolean) but "NaN" as a string is a valid attribute value.
  const t = field === 'attributes' && token.startsWith('"') ? 'NaN' : token;
  const shape = sub ? { ...event, [field]: field === 'location' ? { lat: 1, lon: 1, [sub]: '__T__' } : { [sub]: '__T__' } } : { ...event, [field]: '__T__' };
  return JSON.stringify(shape).replace('"__T__"', t);
}));

const protoKeys = withInvalidEvent('__proto__/constructor', fc.tuple(
  fc.constantFrom('__proto__', 'constructor', 'prototype'),
  fc.constantFrom('top', 'attributes', 'location'),
  fc.constantFrom('{"polluted":true}', '{"isAdmin":true,"amount":1}', '"x"', '1', 'null', '{"prototype":{"polluted":1}}'),
).map(([key, where, value]) => (event: Record<string, unknown>) => {
  const json = JSON.stringify(key);
  if (where === 'top') return JSON.stringify(event).replace(/^\{/, `{${json}:${value},`);
  if (where === 'location') return JSON.stringify({ ...event, location: '__L__' }).replace('"__L__"', `{"lat":1,"lon":2,${json}:${value}}`);
  return JSON.stringify({ ...event, attributes: '__A__' }).replace('"__A__"', `{"ok":1,${json}:${value}}`);
}));

const controlCharacters = withInvalidEvent('control characters', fc.tuple(
  fc.constantFrom(...STRING_FIELDS, 'attributes.s'),
  fc.integer({ min: 0, max: 0x1f }).chain((c) => fc.constantFrom(c, 0x7f, 0xd800, 0xdfff, 0)),
  fc.constantFrom('escaped', 'raw'),
).map(([field, code, form]) => (event: Record<string, unknown>) => {
  // Attribute values are free text: only U+0000 and unpaired surrogates are refused there.
  const c = field === 'attributes.s' && code !== 0 && code < 0xd800 ? 0xd800 : code;
  const escaped = `\\u${c.toString(16).padStart(4, '0')}`;
  // Raw control bytes inside a JSON string are invalid JSON (400); escaped ones reach the validator (422).
  const inner = form === 'raw' && c < 0x20 ? String.fromCharCode(c) : escaped;
  const shape = field === 'attributes.s' ? { ...event, attributes: { s: '__S__' } } : { ...event, [field]: '__S__' };
  return JSON.stringify(shape).replace('"__S__"', `"a${inner}b"`);
}));

const giantStrings: fc.Arbitrary<HostilePayload> = fc.tuple(
  fc.constantFrom(...STRING_FIELDS, 'attributes.s', 'attributes.key', 'unknown.key', 'currency', 'ipAddress'),
  fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 129, max: 20_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 500_000, max: 1_500_000 }) }),
  fc.constantFrom('x', 'é', '😀', '\\u0041'),
  jsonType,
).map(([field, length, unit, contentType]) => {
  const s = unit.repeat(length); // decoded length ≥ length (an escape is one character, 😀 two code units)
  const event = base(`fz-giant-${length}`);
  let body: string;
  if (field === 'attributes.key') body = JSON.stringify({ ...event, attributes: { __K__: 1 } }).replace('"__K__"', `"${s}"`);
  else if (field === 'unknown.key') body = JSON.stringify(event).replace(/^\{/, `{"${s}":1,`);
  else if (field === 'attributes.s') body = JSON.stringify({ ...event, attributes: { s: '__S__' } }).replace('"__S__"', `"${s.repeat(2)}"`);
  else body = JSON.stringify({ ...event, [field]: '__S__' }).replace('"__S__"', `"${s}"`);
  return { category: 'giant strings', headers: { 'content-type': contentType }, body };
});

const wrongTypes = withInvalidEvent('wrong types', fc.tuple(
  fc.constantFrom(...FIELDS),
  fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(null, true, [], {}, [1, 2], '', 0, -1, 'x', { lat: 1 })),
).map(([field, value]) => (event: Record<string, unknown>) => {
  // Keep only values the field cannot accept: the validator's own rules decide, the test asserts 4xx.
  return { ...event, [field]: wrongFor(field, value) };
}));

/** `value` if it is of a type `field` never accepts, otherwise a value that is. */
function wrongFor(field: string, value: unknown): unknown {
  const isString = typeof value === 'string';
  switch (field) {
    case 'amount': return typeof value === 'number' && value > 0 && value <= 1e15 ? String(value) : value;
    case 'occurredAt': return typeof value === 'number' || isString ? [value] : value;
    case 'location': case 'attributes': return value !== null && typeof value === 'object' && !Array.isArray(value) ? [value] : value;
    default: return isString ? { value } : value;
  }
}

const cardNumbers = withInvalidEvent('card numbers', fc.tuple(fc.integer({ min: 12, max: 18 }), fc.constantFrom('', ' ', '-'), fc.nat())
  .map(([n, sep, seed]) => {
    const prefix = Array.from({ length: n }, (_, i) => String((seed >> (i % 16)) % 10 === 0 && i === 0 ? 4 : ((seed >> (i % 16)) + i) % 10)).join('');
    const digits = prefix + luhnDigit(prefix);
    const spaced = sep === '' ? digits : digits.replace(/(\d{4})(?=\d)/g, `$1${sep}`);
    return (event: Record<string, unknown>) => ({ ...event, cardId: spaced });
  }));

const overLimits: fc.Arbitrary<HostilePayload> = fc.tuple(fc.constantFrom('batch', 'attributes', 'channel', 'time-low', 'time-high', 'time-seconds', 'duplicate-ids', 'empty'), jsonType, fc.nat())
  .map(([limit, contentType, n]) => {
    const event = base(`fz-limit-${n}`);
    const ts = Date.UTC(2026, 0, 31);
    const events: unknown[] = {
      batch: Array.from({ length: 1001 }, (_, k) => base(`fz-limit-${n}-${k}`)),
      attributes: [{ ...event, attributes: Object.fromEntries(Array.from({ length: 33 }, (_, k) => [`k${k}`, k])) }],
      channel: [{ ...event, channel: 'c'.repeat(33) }],
      'time-low': [{ ...event, occurredAt: EVENT_LIMITS.minEventTimeMs - 1 }],
      'time-high': [{ ...event, occurredAt: '2200-01-01T00:00:00Z' }],
      'time-seconds': [{ ...event, occurredAt: Math.floor(ts / 1000) }],
      'duplicate-ids': [event, event],
      empty: [],
    }[limit];
    return { category: 'limits', headers: { 'content-type': contentType }, body: serialise(events, contentType, n) };
  });

const wrongContentTypes: fc.Arbitrary<HostilePayload> = fc.tuple(
  fc.constantFrom('text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/octet-stream',
    '', 'application/json; charset=latin1', 'application/x-ndjson; charset=utf-16le', 'application/jsonp', 'text/json', 'application/ndjson'),
  fc.constantFrom<Record<string, string>>({}, { 'content-encoding': 'gzip' }, { 'content-encoding': 'br' }),
  fc.boolean(), fc.nat(),
).map(([contentType, extra, omit, n]) => {
  // A perfectly valid event: only the media type or the encoding makes it unacceptable.
  const headers: Record<string, string> = contentType === '' && omit ? { ...extra } : { 'content-type': contentType, ...extra };
  if (Object.keys(extra).length > 0 && contentType === '') headers['content-type'] = JSON_TYPE;
  return { category: 'content types', headers, body: JSON.stringify(base(`fz-ctype-${n}`)) };
});

const ndjsonVariants: fc.Arbitrary<HostilePayload> = fc.tuple(fc.constantFrom('array-line', 'bad-line', 'as-json', 'nested-lines', 'only-blank', 'nul-separated', 'comma-separated'), fc.nat())
  .map(([variant, n]) => {
    const lines = [base(`fz-nd-${n}-a`), base(`fz-nd-${n}-b`)].map((e) => JSON.stringify(e));
    const body = {
      'array-line': `${lines[0]}\n[${lines[1]}]`,
      'bad-line': `${lines[0]}\n{"eventId":\n${lines[1]}`,
      'as-json': lines.join('\n'),
      'nested-lines': `${lines[0]}\n"${lines[1].replace(/"/g, '\\"')}"`,
      'only-blank': '\n \r\n\t\n',
      'nul-separated': lines.join('\u0000'),
      'comma-separated': lines.join(',\n'),
    }[variant];
    return { category: 'NDJSON variants', headers: { 'content-type': variant === 'as-json' ? JSON_TYPE : NDJSON }, body };
  });

const invalidUtf8: fc.Arbitrary<HostilePayload> = fc.tuple(fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80], [0xe6, 0x9d]), jsonType, fc.nat())
  .map(([bytes, contentType, n]) => {
    const [head, tail] = JSON.stringify(base(`fz-utf8-${n}`)).split('m-fuzz');
    return { category: 'invalid UTF-8', headers: { 'content-type': contentType }, body: concatBytes(head + 'm-', bytes, 'fuzz' + tail) };
  });

/**
 * Hostile requests per category (how many of each, all categories always present), in a reproducible order.
 */
export const HOSTILE_CATEGORIES: Array<[fc.Arbitrary<HostilePayload>, number]> = [
  [randomBytes, 1200], [truncatedJson, 900], [deepNesting, 400], [hugeNumbers, 800], [nanInfinity, 800], [protoKeys, 800],
  [controlCharacters, 900], [giantStrings, 500], [wrongTypes, 1200], [cardNumbers, 600], [overLimits, 500],
  [wrongContentTypes, 600], [ndjsonVariants, 500], [invalidUtf8, 400],
];

export function hostilePayloads(seed: number): HostilePayload[] {
  const all = HOSTILE_CATEGORIES.flatMap(([arb, count], i) => fc.sample(arb, { seed: seed + i, numRuns: count }));
  // Interleave categories (deterministically) so slow and fast requests mix under concurrency.
  return fc.sample(fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }), { seed, numRuns: 1 })[0];
}

function luhnDigit(prefix: string): number {
  let sum = 0;
  for (let i = prefix.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = prefix.charCodeAt(i) - 48;
    if (double) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}
