/** Tiny HTTP helpers for tests (fetch with JSON in and out). `auth` is the API key header (see ServiceStack). */
import type { AuthHeaders } from './service-stack';

export async function postEvents(ingestUrl: string, events: unknown[], auth: AuthHeaders): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${ingestUrl}/v1/events`, {
    method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...auth }, body: events.map((e) => JSON.stringify(e)).join('\n'),
  });
  return { status: response.status, body: await response.json() };
}

export async function sendJson(method: string, url: string, auth: AuthHeaders | Record<string, never>, body?: unknown): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers: Record<string, string> = { ...auth };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

/** GET with an API key, parsed JSON (throws on a non-2xx answer with its body, for clear failures). */
export async function getJson<T>(url: string, auth: AuthHeaders): Promise<T> {
  const response = await fetch(url, { headers: auth });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/**
 * Splits events into requests of at most `size` without repeating an eventId inside one request (ingest
 * rejects that as a client error; a redelivery is a separate request).
 */
export function batches<T extends { eventId: string }>(events: T[], size: number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let ids = new Set<string>();
  for (const e of events) {
    if (current.length >= size || ids.has(e.eventId)) {
      out.push(current);
      current = [];
      ids = new Set();
    }
    current.push(e);
    ids.add(e.eventId);
  }
  if (current.length > 0) out.push(current);
  return out;
}
