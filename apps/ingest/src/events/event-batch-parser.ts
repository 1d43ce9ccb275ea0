/**
 * Turns a request body into validated events, all or nothing.
 *
 * Accepted bodies: one JSON object, a JSON array of objects (`application/json`), or one object per line
 * (`application/x-ndjson`; blank lines ignored). The outcome is a value, never an exception:
 * `unparseable` → 400, `too-many` → 413, `invalid` → 422 (every violation: index, field, reason, up to
 * {@link MAX_REPORTED_VIOLATIONS}), `ok`. Hostile bodies (deep nesting, huge keys, `1e400`) are values too:
 * nothing here recurses into client data or throws on it.
 */
import { FieldViolation, TransactionEvent, validateTransactionEvent } from '@streamguard/common';

export type ParseOutcome =
  | { kind: 'ok'; events: TransactionEvent[] }
  | { kind: 'unparseable'; message: string }
  | { kind: 'too-many'; count: number; limit: number }
  | { kind: 'invalid'; violations: FieldViolation[]; count: number; invalidEvents: number; omitted?: number };

export const NDJSON = 'application/x-ndjson';

/**
 * Most violations listed in one response. A 1 MB body of one-character unknown fields has ~170 000 of them;
 * listing all would make the error response ten times the request (an amplification an attacker could use).
 */
export const MAX_REPORTED_VIOLATIONS = 1000;

export function parseEventBatch(body: string, contentType: string, maxEvents: number): ParseOutcome {
  const items = contentType === NDJSON ? parseNdjson(body) : parseJson(body);
  if (!Array.isArray(items)) return items;
  if (items.length === 0) return { kind: 'unparseable', message: 'the request contains no events' };
  if (items.length > maxEvents) return { kind: 'too-many', count: items.length, limit: maxEvents };
  const violations: FieldViolation[] = [];
  const events: TransactionEvent[] = [];
  const seenIds = new Map<string, number>();
  items.forEach((item, index) => {
    const event = validateTransactionEvent(item, index, violations);
    if (!event) return;
    // The same eventId twice in one request is a client bug, not a retry: say so instead of deduplicating.
    const first = seenIds.get(event.eventId);
    if (first !== undefined) violations.push({ index, field: 'eventId', reason: `duplicates event ${first} of this request` });
    else seenIds.set(event.eventId, index);
    events.push(event);
  });
  if (violations.length === 0) return { kind: 'ok', events };
  const invalidEvents = new Set(violations.map((v) => v.index)).size;
  if (violations.length <= MAX_REPORTED_VIOLATIONS) return { kind: 'invalid', violations, count: items.length, invalidEvents };
  return {
    kind: 'invalid', violations: violations.slice(0, MAX_REPORTED_VIOLATIONS), count: items.length, invalidEvents,
    omitted: violations.length - MAX_REPORTED_VIOLATIONS,
  };
}

function parseJson(body: string): unknown[] | ParseOutcome {
  if (body.trim() === '') return { kind: 'unparseable', message: 'the request body is empty' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    return { kind: 'unparseable', message: `the body is not valid JSON: ${(error as Error).message}` };
  }
  return Array.isArray(parsed) ? parsed : [parsed];
}

function parseNdjson(body: string): unknown[] | ParseOutcome {
  const items: unknown[] = [];
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    try {
      items.push(JSON.parse(line));
    } catch (error) {
      return { kind: 'unparseable', message: `line ${i + 1} is not valid JSON: ${(error as Error).message}` };
    }
  }
  return items;
}
