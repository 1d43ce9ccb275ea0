/**
 * Transaction event, schema v1: the public ingest contract.
 *
 * Hand-written validator (not a schema library) because it is on the hottest path of the system and must
 * report every problem of a batch precisely: `{ index, field, reason }` per violation.
 */
import { isStorableText, UNPAIRED_SURROGATE } from './storable-text';

export const EVENT_SCHEMA_VERSION = 1;

export interface GeoPoint {
  lat: number;
  lon: number;
}

export type AttributeValue = string | number | boolean;

/** An event as accepted by `POST /v1/events` after validation. `occurredAt` is normalised to epoch ms. */
export interface TransactionEvent {
  eventId: string;
  /** Event time, epoch milliseconds. */
  occurredAt: number;
  accountId: string;
  amount: number;
  currency: string;
  merchantId: string;
  cardId?: string;
  deviceId?: string;
  ipAddress?: string;
  country?: string;
  location?: GeoPoint;
  channel?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface FieldViolation {
  /** Position of the event in the request (0 for a single object). */
  index: number;
  /** JSON path of the offending field inside the event, e.g. `location.lat`; `''` for the event itself. */
  field: string;
  reason: string;
}

export const EVENT_LIMITS = {
  idMaxLength: 128,
  stringMaxLength: 256,
  attributesMaxKeys: 32,
  attributeKeyMaxLength: 64,
  attributeValueMaxLength: 256,
  /**
   * Event time must be within [2000-01-01, 2200-01-01): catches seconds sent as milliseconds (a present-day
   * epoch-seconds value read as ms falls in 1970) and garbage early.
   */
  minEventTimeMs: Date.UTC(2000, 0, 1),
  maxEventTimeMs: Date.UTC(2200, 0, 1),
  /** Longest client-supplied key echoed back in a violation's `field` (longer keys are cut, with `…`). */
  echoedKeyMaxLength: 100,
} as const;

/**
 * Keys that must never become own properties of an object we pass on: a consumer that merges attributes
 * into a plain object (`Object.assign`, `_.merge`, a naive deep copy) would modify a prototype instead.
 */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const ALLOWED_FIELDS = new Set([
  'eventId', 'occurredAt', 'accountId', 'amount', 'currency', 'merchantId',
  'cardId', 'deviceId', 'ipAddress', 'country', 'location', 'channel', 'attributes',
]);
/** A body must never choose its tenant: it is the API key's. Naming one is an explicit error, not "unknown field". */
const TENANT_FIELDS = new Set(['tenantId', 'tenant', 'tenant_id']);
export const TENANT_IN_BODY_REASON = 'must not be sent: the tenant is taken from your API key, never from the request body';
const CURRENCY = /^[A-Z]{3}$/;
const COUNTRY = /^[A-Z]{2}$/;
// RFC 3339 date-time with a mandatory offset (Z or ±hh:mm); fractional seconds optional.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;
const ATTRIBUTE_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
const CARD_NUMBER_SHAPE = /^[0-9 -]+$/;

/** Reason given for a `cardId` that {@link looksLikeCardNumber}. */
export const CARD_NUMBER_REASON = 'looks like a card number (PAN); send a token instead — Streamguard never stores card numbers';

type Problems = FieldViolation[];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkString(
  value: unknown, field: string, index: number, problems: Problems, required: boolean,
  maxLength: number = EVENT_LIMITS.stringMaxLength,
): value is string {
  if (value === undefined) {
    if (required) problems.push({ index, field, reason: 'is required' });
    return false;
  }
  if (typeof value !== 'string') {
    problems.push({ index, field, reason: `must be a string, got ${describeType(value)}` });
    return false;
  }
  if (value.length === 0 || value.length > maxLength) {
    problems.push({ index, field, reason: `must be 1-${maxLength} characters, got ${value.length}` });
    return false;
  }
  // Control characters break logs and downstream tools; no legitimate id or code contains them.
  if (CONTROL_CHARACTER.test(value)) {
    problems.push({ index, field, reason: 'must not contain control characters' });
    return false;
  }
  if (UNPAIRED_SURROGATE.test(value)) {
    problems.push({ index, field, reason: 'must be valid Unicode (no unpaired surrogate)' });
    return false;
  }
  return true;
}

/** `prefix.key` for a violation, with an attacker-sized key cut so a response cannot echo megabytes. */
function keyField(prefix: string, key: string): string {
  const shown = key.length > EVENT_LIMITS.echoedKeyMaxLength ? `${key.slice(0, EVENT_LIMITS.echoedKeyMaxLength)}…` : key;
  return prefix === '' ? shown : `${prefix}.${shown}`;
}

/**
 * True for 13–19 digits, optionally separated by spaces or dashes, that pass the Luhn check: the shape of a
 * primary account number (PAN). Streamguard takes card tokens only; a PAN must never reach Kafka or Postgres.
 * Digit strings failing Luhn (most numeric ids) and anything with other characters are not card numbers.
 */
export function looksLikeCardNumber(value: string): boolean {
  if (value.length > 64 || !CARD_NUMBER_SHAPE.test(value)) return false;
  const digits = value.replace(/[ -]/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * Parses `occurredAt`: RFC 3339 with offset, or epoch milliseconds (integer). Returns NaN when invalid,
 * including date-times that do not exist (`2026-02-30`, `24:00:00`), which `Date.parse` would roll over.
 */
export function parseEventTime(value: unknown): number {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : NaN;
  if (typeof value !== 'string') return NaN;
  const m = RFC3339.exec(value);
  if (!m) return NaN;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const offsetHours = m[10] === undefined ? 0 : Number(m[10]);
  const offsetMinutes = m[11] === undefined ? 0 : Number(m[11]);
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return NaN;
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return NaN;
  return Date.parse(value);
}

/**
 * Validates one untrusted event. Returns the normalised event, or `undefined` with the problems appended.
 * Unknown top-level fields are rejected (a typo must not silently drop data).
 */
export function validateTransactionEvent(
  input: unknown, index: number, problems: Problems,
): TransactionEvent | undefined {
  const before = problems.length;
  if (!isPlainObject(input)) {
    problems.push({ index, field: '', reason: `event must be a JSON object, got ${describeType(input)}` });
    return undefined;
  }
  for (const key of Object.keys(input)) {
    if (TENANT_FIELDS.has(key)) problems.push({ index, field: key, reason: TENANT_IN_BODY_REASON });
    else if (!ALLOWED_FIELDS.has(key)) problems.push({ index, field: keyField('', key), reason: 'unknown field' });
  }
  checkString(input.eventId, 'eventId', index, problems, true, EVENT_LIMITS.idMaxLength);
  checkString(input.accountId, 'accountId', index, problems, true, EVENT_LIMITS.idMaxLength);
  checkString(input.merchantId, 'merchantId', index, problems, true, EVENT_LIMITS.idMaxLength);

  let occurredAt = NaN;
  if (input.occurredAt === undefined) {
    problems.push({ index, field: 'occurredAt', reason: 'is required' });
  } else {
    occurredAt = parseEventTime(input.occurredAt);
    if (Number.isNaN(occurredAt)) {
      problems.push({
        index, field: 'occurredAt',
        reason: 'must be an RFC 3339 date-time with offset (e.g. 2026-01-31T12:00:00Z) or integer epoch milliseconds',
      });
    } else if (occurredAt < EVENT_LIMITS.minEventTimeMs || occurredAt >= EVENT_LIMITS.maxEventTimeMs) {
      problems.push({ index, field: 'occurredAt', reason: 'must be between 2000-01-01 and 2200-01-01 (epoch milliseconds, not seconds)' });
    }
  }

  const amount = input.amount;
  if (amount === undefined) problems.push({ index, field: 'amount', reason: 'is required' });
  else if (typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0 || amount > 1e15) {
    problems.push({ index, field: 'amount', reason: 'must be a finite number > 0 and <= 1e15' });
  }

  if (input.currency === undefined) problems.push({ index, field: 'currency', reason: 'is required' });
  else if (typeof input.currency !== 'string' || !CURRENCY.test(input.currency)) {
    problems.push({ index, field: 'currency', reason: 'must be an ISO 4217 code of 3 upper-case letters' });
  }

  if (checkString(input.cardId, 'cardId', index, problems, false, EVENT_LIMITS.idMaxLength) && looksLikeCardNumber(input.cardId)) {
    problems.push({ index, field: 'cardId', reason: CARD_NUMBER_REASON });
  }
  checkString(input.deviceId, 'deviceId', index, problems, false, EVENT_LIMITS.idMaxLength);
  checkString(input.channel, 'channel', index, problems, false, 32);
  if (input.ipAddress !== undefined && (typeof input.ipAddress !== 'string'
    || !(IPV4.test(input.ipAddress) || (input.ipAddress.includes(':') && IPV6.test(input.ipAddress))))) {
    problems.push({ index, field: 'ipAddress', reason: 'must be an IPv4 or IPv6 address' });
  }
  if (input.country !== undefined && (typeof input.country !== 'string' || !COUNTRY.test(input.country))) {
    problems.push({ index, field: 'country', reason: 'must be an ISO 3166-1 alpha-2 code of 2 upper-case letters' });
  }
  if (input.location !== undefined) validateLocation(input.location, index, problems);
  if (input.attributes !== undefined) validateAttributes(input.attributes, index, problems);

  if (problems.length > before) return undefined;
  const event: TransactionEvent = {
    eventId: input.eventId as string,
    occurredAt,
    accountId: input.accountId as string,
    amount: amount as number,
    currency: input.currency as string,
    merchantId: input.merchantId as string,
  };
  for (const optional of ['cardId', 'deviceId', 'ipAddress', 'country', 'channel'] as const) {
    if (input[optional] !== undefined) event[optional] = input[optional] as string;
  }
  if (input.location !== undefined) {
    const loc = input.location as GeoPoint;
    event.location = { lat: loc.lat, lon: loc.lon };
  }
  if (input.attributes !== undefined) event.attributes = { ...(input.attributes as Record<string, AttributeValue>) };
  return event;
}

function validateLocation(location: unknown, index: number, problems: Problems): void {
  if (!isPlainObject(location)) {
    problems.push({ index, field: 'location', reason: 'must be an object {lat, lon}' });
    return;
  }
  for (const key of Object.keys(location)) {
    if (key !== 'lat' && key !== 'lon') problems.push({ index, field: keyField('location', key), reason: 'unknown field' });
  }
  const { lat, lon } = location;
  if (typeof lat !== 'number' || !Number.isFinite(lat) || lat < -90 || lat > 90) {
    problems.push({ index, field: 'location.lat', reason: 'must be a number between -90 and 90' });
  }
  if (typeof lon !== 'number' || !Number.isFinite(lon) || lon < -180 || lon > 180) {
    problems.push({ index, field: 'location.lon', reason: 'must be a number between -180 and 180' });
  }
}

function validateAttributes(attributes: unknown, index: number, problems: Problems): void {
  if (!isPlainObject(attributes)) {
    problems.push({ index, field: 'attributes', reason: 'must be a flat object of string, number or boolean values' });
    return;
  }
  const keys = Object.keys(attributes);
  if (keys.length > EVENT_LIMITS.attributesMaxKeys) {
    problems.push({ index, field: 'attributes', reason: `must have at most ${EVENT_LIMITS.attributesMaxKeys} keys, got ${keys.length}` });
    return;
  }
  for (const key of keys) {
    const field = keyField('attributes', key);
    if (key.length > EVENT_LIMITS.attributeKeyMaxLength || !ATTRIBUTE_KEY.test(key)) {
      problems.push({ index, field, reason: `key must match ${ATTRIBUTE_KEY.source} and be at most ${EVENT_LIMITS.attributeKeyMaxLength} characters` });
      continue;
    }
    if (PROTOTYPE_KEYS.has(key)) {
      problems.push({ index, field, reason: 'key must not be __proto__, constructor or prototype (prototype pollution)' });
      continue;
    }
    const value = attributes[key];
    if (typeof value === 'string') {
      if (value.length > EVENT_LIMITS.attributeValueMaxLength) {
        problems.push({ index, field, reason: `string values must be at most ${EVENT_LIMITS.attributeValueMaxLength} characters` });
      } else if (!isStorableText(value)) {
        problems.push({ index, field, reason: 'string values must not contain U+0000 or unpaired surrogates (not storable in Postgres)' });
      }
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) problems.push({ index, field, reason: 'numbers must be finite' });
    } else if (typeof value !== 'boolean') {
      problems.push({ index, field, reason: `must be a string, number or boolean, got ${describeType(value)}` });
    }
  }
}
