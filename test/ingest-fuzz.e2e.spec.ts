/**
 * Hostile input against a real ingest process (compiled build, real broker, its own topics):
 *
 * 1. Protocol-level rejections (what Node and Fastify answer before the controller runs) all get a 4xx with
 *    the JSON error body `{error: {code, message}}`: body over the limit by Content-Length and by a chunked
 *    upload, bad Content-Length, malformed request line, bad URL, unknown route, wrong method, encodings.
 * 2. Fuzz: > 10 000 generated hostile requests (fast-check, fixed seed: reproducible), 16 in flight. Every
 *    answer is a 4xx JSON error, the process stays up, its RSS stays bounded, and nothing reaches Kafka:
 *    after one barrier event per partition has arrived on `events.raw`, the barriers are all there is.
 * 3. Property: every valid generated event is accepted and appears on `events.raw` exactly once, normalised.
 */
import type { Agent } from 'node:http';
import fc from 'fast-check';
import type { KafkaPort, RawEventMessage, TopicNames } from '@streamguard/common';
import { barrierAccounts } from './support/barrier';
import { hostilePayloads, HOSTILE_CATEGORIES, validEvents } from './support/hostile-payloads';
import { concatBytes, keepAliveAgent, mapBounded, rawExchange, RawResponse, send, streamUntilAnswered } from './support/raw-http';
import { ServiceStack } from './support/service-stack';
import { collectTopic, createTestTopics, testKafka, uniqueName } from './support/test-infra';
import { waitFor } from './support/wait-for';

const PARTITIONS = 3;
const MAX_BODY_BYTES = 1_048_576; // INGEST_MAX_BODY_BYTES default
const CONCURRENCY = 16;
/**
 * RSS bound for the ingest process. Idle it needs ~100-130 MB (Node, Nest, the Kafka client). The worst transient
 * load here is 16 requests of up to 1 MB each: raw bytes + decoded string + parsed value ≈ 4-6 MB per
 * request, so < 100 MB on top. On Node 24, V8 collects later: three runs here peaked at 289, 301 and 322 MB
 * (from ~120 MB idle). 448 MB leaves room for that lazy collection while still catching any per-request leak
 * (10 000 requests leaking even 20 KB each would add 200 MB to those peaks) or body amplification.
 */
const RSS_LIMIT_BYTES = 448 * 1024 * 1024;

type Stored = RawEventMessage & Record<string, unknown>;

describe('ingest under hostile input', () => {
  let kafka: KafkaPort;
  let topics: TopicNames;
  let stack: ServiceStack;
  let raw: Awaited<ReturnType<typeof collectTopic>>;
  let agent: Agent;
  let port: number;
  const runId = uniqueName('fz');

  beforeAll(async () => {
    kafka = testKafka();
    topics = await createTestTopics(kafka, PARTITIONS);
    stack = await new ServiceStack({ topics, services: ['ingest'], env: { INGEST_MAX_BODY_BYTES: String(MAX_BODY_BYTES) } }).start();
    port = Number(new URL(stack.url('ingest')).port);
    raw = await collectTopic(kafka, topics.raw);
    agent = keepAliveAgent(CONCURRENCY);
  }, 120_000);

  afterAll(async () => {
    agent?.destroy();
    await raw?.stop();
    await stack?.stop();
  }, 60_000);

  const ingestUp = () => !stack.get('ingest').exited();
  const stored = () => raw.records.map((r) => JSON.parse(r.value!.toString()) as Stored);

  function expectJsonError(response: RawResponse, status: number | 'any4xx', code?: string): void {
    const context = `${response.status} ${response.contentType} ${response.text.slice(0, 300)}`;
    if (status === 'any4xx') expect([context, response.status >= 400 && response.status < 500]).toEqual([context, true]);
    else expect([context, response.status]).toEqual([context, status]);
    expect([context, response.contentType.startsWith('application/json')]).toEqual([context, true]);
    const body = JSON.parse(response.text) as { error?: { code?: unknown; message?: unknown } };
    expect(body.error).toEqual({ code: code ?? expect.any(String), message: expect.any(String), ...('details' in (body.error ?? {}) ? { details: expect.anything() } : {}) });
    expect((body.error!.message as string).length).toBeGreaterThan(0);
  }

  async function rssBytes(): Promise<number> {
    const text = await (await fetch(`${stack.url('ingest')}/metrics`)).text();
    const match = /^process_resident_memory_bytes\{[^}]*\} (\S+)$/m.exec(text);
    if (!match) throw new Error('no process_resident_memory_bytes in /metrics');
    return Number(match[1]);
  }

  /** One event per partition after everything else; resolves once all of them are on events.raw. */
  async function sendBarriers(label: string): Promise<string[]> {
    const ids = barrierAccounts(`${runId}-${label}`, PARTITIONS).map((account, p) => ({
      eventId: `${runId}-${label}-barrier-${p}`, occurredAt: Date.UTC(2026, 0, 31), accountId: account, amount: 1, currency: 'EUR', merchantId: 'm-barrier',
    }));
    const response = await send(stack.url('ingest'), agent, { headers: { ...stack.auth, 'content-type': 'application/json' }, body: JSON.stringify(ids) });
    expect(response.status).toBe(202);
    const wanted = ids.map((e) => e.eventId);
    await waitFor(`the ${label} barriers on events.raw`, () => wanted.every((id) => stored().some((m) => m.eventId === id)) || undefined, 30_000);
    return wanted;
  }

  /** A raw request head; requests to the events route carry the stack's key (without one, every answer is a 401). */
  const head = (method: string, path: string, headers: string[] = []) => [
    `${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close',
    ...(path === '/v1/events' ? [`Authorization: ${stack.auth.authorization}`] : []), ...headers,
  ].join('\r\n');

  it('answers protocol-level rejections with a 4xx and the JSON error body, before reading oversized bodies', async () => {
    const event = JSON.stringify({ eventId: `${runId}-proto`, occurredAt: Date.UTC(2026, 0, 31), accountId: 'a', amount: 1, currency: 'EUR', merchantId: 'm' });
    const cases: Array<[string, string | Uint8Array, number, string]> = [
      // Content-Length over the limit: 413 from the header alone, although the body never comes.
      ['Content-Length over the limit', `${head('POST', '/v1/events', ['Content-Type: application/json', `Content-Length: ${MAX_BODY_BYTES + 1}`])}\r\n\r\n{`, 413, 'BODY_TOO_LARGE'],
      ['Content-Length not a number', `${head('POST', '/v1/events', ['Content-Type: application/json', 'Content-Length: abc'])}\r\n\r\n{}`, 400, 'INVALID_CONTENT_LENGTH'],
      ['two different Content-Lengths', `${head('POST', '/v1/events', ['Content-Type: application/json', 'Content-Length: 2', 'Content-Length: 3'])}\r\n\r\n{}`, 400, 'INVALID_CONTENT_LENGTH'],
      ['Content-Length with Transfer-Encoding', `${head('POST', '/v1/events', ['Content-Type: application/json', 'Content-Length: 2', 'Transfer-Encoding: chunked'])}\r\n\r\n{}`, 400, 'INVALID_TRANSFER_ENCODING'],
      ['a bad chunk size', `${head('POST', '/v1/events', ['Content-Type: application/json', 'Transfer-Encoding: chunked'])}\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`, 400, 'INVALID_TRANSFER_ENCODING'],
      ['an invalid method token', `${head('FO(O', '/v1/events')}\r\n\r\n`, 400, 'INVALID_METHOD'],
      ['binary garbage', Uint8Array.from([0, 1, 2, 255, 13, 10, 13, 10]), 400, 'INVALID_METHOD'],
      ['headers over 16 KB', `${head('GET', '/healthz', [`X-Big: ${'a'.repeat(20_000)}`])}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
      ['a URL that does not decode', `${head('GET', '/v1/%zz')}\r\n\r\n`, 400, 'BAD_URL'],
      ['an unknown route', `${head('GET', '/v2/nothing')}\r\n\r\n`, 404, 'NOT_FOUND'],
      ['GET on the events route', `${head('GET', '/v1/events')}\r\n\r\n`, 404, 'NOT_FOUND'],
      ['DELETE on the events route', `${head('DELETE', '/v1/events')}\r\n\r\n`, 404, 'NOT_FOUND'],
      ['a body shorter than its Content-Length', `${head('POST', '/v1/events', ['Content-Type: application/json', 'Content-Length: 10'])}\r\n\r\n{}`, 400, 'MALFORMED_REQUEST'],
    ];
    for (const [name, bytes, status, code] of cases) {
      // Half-close after the short-body case so the server sees the end of the stream.
      const response = await rawExchange(port, bytes, { halfClose: name.startsWith('a body shorter') }).catch((error: Error) => {
        throw new Error(`${name}: ${error.message}`);
      });
      expect([name, response.status]).toEqual([name, status]);
      expectJsonError(response, status, code);
    }

    // Chunked upload with no Content-Length, 128 KB over the limit and never finished (no final chunk): the
    // 413 comes while the body is incomplete, decided once the limit was crossed. Stopping just past the
    // limit matters: a server that closes with megabytes unread resets the connection, and the reset can
    // destroy its answer before the client reads it.
    const streamed = await streamUntilAnswered(port, '/v1/events', MAX_BODY_BYTES + 128 * 1024, [`Authorization: ${stack.auth.authorization}`]);
    expectJsonError(streamed.response, 413, 'BODY_TOO_LARGE');

    const url = stack.url('ingest');
    const ev = (extra = '') => event.replace(`${runId}-proto`, `${runId}-proto${extra}`);
    expectJsonError(await send(url, agent, { headers: { ...stack.auth, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: ev() }), 415, 'UNSUPPORTED_CONTENT_ENCODING');
    expectJsonError(await send(url, agent, { headers: { ...stack.auth, 'content-type': 'application/json; charset=iso-8859-1' }, body: ev() }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectJsonError(await send(url, agent, { headers: { ...stack.auth, 'content-type': 'text/plain' }, body: ev() }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectJsonError(await send(url, agent, { headers: { ...stack.auth }, body: ev() }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectJsonError(await send(url, agent, { headers: { ...stack.auth, 'content-type': 'application/json' }, body: concatBytes(ev().slice(0, -2), [0xff], '"}') }), 400, 'INVALID_UTF8');
    const infinite = await send(url, agent, { headers: { ...stack.auth, 'content-type': 'application/json' }, body: ev().replace('"amount":1', '"amount":1e400') });
    expectJsonError(infinite, 422, 'INVALID_EVENTS');
    expect(JSON.parse(infinite.text).error.details).toEqual([{ index: 0, field: 'amount', reason: 'must be a finite number > 0 and <= 1e15' }]);
    const pan = await send(url, agent, { headers: { ...stack.auth, 'content-type': 'application/json' }, body: JSON.stringify({ ...JSON.parse(ev()), cardId: '4111 1111 1111 1111' }) });
    expect(JSON.parse(pan.text).error.details).toEqual([{ index: 0, field: 'cardId', reason: 'looks like a card number (PAN); send a token instead — Streamguard never stores card numbers' }]);

    // The accepted spellings of the media type.
    for (const [i, contentType] of ['application/json; charset=utf-8', 'application/json;charset="UTF-8"', 'application/x-ndjson; charset=utf-8'].entries()) {
      const response = await send(url, agent, { headers: { ...stack.auth, 'content-type': contentType, 'content-encoding': 'identity' }, body: ev(`-ok-${i}`) });
      expect([contentType, response.status, response.text]).toEqual([contentType, 202, '{"accepted":1}']);
    }
    const accepted = [0, 1, 2].map((i) => `${runId}-proto-ok-${i}`);
    await waitFor('the accepted events on events.raw', () => accepted.every((id) => stored().some((m) => m.eventId === id)) || undefined, 30_000);
    expect(stored().map((m) => m.eventId).filter((id) => id.startsWith(`${runId}-proto`)).sort()).toEqual(accepted);
    expect(ingestUp()).toBe(true);
  }, 60_000);

  it('rejects > 10 000 generated hostile payloads with a 4xx JSON error, stays up with bounded RSS, and produces nothing', async () => {
    const payloads = hostilePayloads(20260131);
    expect(payloads.length).toBeGreaterThanOrEqual(10_000);
    const before = new Set(stored().map((m) => m.eventId));
    const url = stack.url('ingest');
    const rss: number[] = [await rssBytes()];
    const statuses = new Map<string, Map<number, number>>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        expect(ingestUp()).toBe(true);
        rss.push(await rssBytes());
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const started = Date.now();
    try {
      await mapBounded(payloads, CONCURRENCY, async (payload, i) => {
        // Every 10th payload also carries a broken or missing API key: authentication errors are 4xx JSON too.
        const auth = i % 10 === 0 ? BROKEN_AUTH[(i / 10) % BROKEN_AUTH.length] : stack.auth;
        const response = await send(url, agent, { ...payload, headers: { ...auth, ...payload.headers } }, { earlyAnswerAbove: MAX_BODY_BYTES });
        const byStatus = statuses.get(payload.category) ?? new Map<number, number>();
        byStatus.set(response.status, (byStatus.get(response.status) ?? 0) + 1);
        statuses.set(payload.category, byStatus);
        try {
          // Authentication comes before the body is even read: a broken key is always exactly a 401.
          expectJsonError(response, auth === stack.auth ? 'any4xx' : 401);
        } catch (error) {
          const body = typeof payload.body === 'string' ? payload.body.slice(0, 300) : JSON.stringify(Array.from(payload.body!.subarray(0, 100)));
          throw new Error(`payload #${i} (${payload.category}, ${JSON.stringify(payload.headers)}): ${(error as Error).message}\nbody: ${body}`);
        }
      });
    } finally {
      sampling = false;
      await sampler;
    }
    const elapsedMs = Date.now() - started;
    expect(ingestUp()).toBe(true);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    rss.push(await rssBytes());

    // Nothing from the fuzz on the topic: once the barriers of every partition are there, only they are new.
    const barriers = await sendBarriers('fuzz');
    const newIds = stored().map((m) => m.eventId).filter((id) => !before.has(id));
    expect(newIds.sort()).toEqual([...barriers].sort());
    rss.push(await rssBytes());

    const maxRss = Math.max(...rss);
    process.stdout.write(`${JSON.stringify({
      fuzz: { payloads: payloads.length, elapsedMs, rssMB: { first: mb(rss[0]), max: mb(maxRss), last: mb(rss.at(-1)!), samples: rss.length } },
      categories: Object.fromEntries([...statuses].map(([c, s]) => [c, Object.fromEntries(s)])),
    })}\n`);
    expect(statuses.size).toBe(HOSTILE_CATEGORIES.length);
    expect(maxRss).toBeLessThan(RSS_LIMIT_BYTES);
    expect(elapsedMs).toBeLessThan(60_000);
  }, 120_000);

  it('accepts every valid generated event (property) exactly once, with the normalised values', async () => {
    const events = validEvents(`${runId}-ok`, 600, 4242);
    // Requests of 1-5 events, as a single object, a JSON array or NDJSON: all three paths are exercised.
    const sizes = fc.sample(fc.integer({ min: 1, max: 5 }), { seed: 99, numRuns: events.length });
    const requests: Array<{ contentType: string; body: string; count: number }> = [];
    for (let i = 0, r = 0; i < events.length; r++) {
      const group = events.slice(i, i + sizes[r]).map((e) => e.input);
      i += group.length;
      const kind = r % 3;
      requests.push(kind === 2
        ? { contentType: 'application/x-ndjson', body: group.map((e) => JSON.stringify(e)).join('\n'), count: group.length }
        : { contentType: 'application/json', body: JSON.stringify(kind === 0 && group.length === 1 ? group[0] : group), count: group.length });
    }
    await mapBounded(requests, CONCURRENCY, async (request) => {
      const response = await send(stack.url('ingest'), agent, { headers: { ...stack.auth, 'content-type': request.contentType }, body: request.body });
      expect([response.status, response.text, request.body.slice(0, 200)]).toEqual([202, `{"accepted":${request.count}}`, request.body.slice(0, 200)]);
    });

    const prefix = `${runId}-ok-`;
    const ours = () => raw.records.filter((r) => (JSON.parse(r.value!.toString()) as Stored).eventId.startsWith(prefix));
    await waitFor('every valid event on events.raw', () => ours().length >= events.length || undefined, 60_000);
    await sendBarriers('property'); // anything produced twice would be before these
    const records = ours();
    expect(records).toHaveLength(events.length);
    const byId = new Map(records.map((r) => [(JSON.parse(r.value!.toString()) as Stored).eventId, r]));
    expect(byId.size).toBe(events.length);
    for (const { expected } of events) {
      const record = byId.get(expected.eventId)!;
      const { receivedAt, ...message } = JSON.parse(record.value!.toString()) as Stored;
      expect(message).toEqual({ schemaVersion: 1, tenantId: stack.tenant, ...expected });
      expect(typeof receivedAt).toBe('number');
      expect(record.key?.toString()).toBe(expected.accountId);
    }
  }, 120_000);
});

const BROKEN_AUTH: Array<Record<string, string>> = [
  {}, { authorization: 'Bearer' }, { authorization: 'Basic dXNlcjpwYXNz' }, { authorization: `Bearer sg_${'0'.repeat(16)}_${'x'.repeat(43)}` },
  { authorization: `Bearer ${'\u00ff'.repeat(40)}` }, { 'x-api-key': 'sg_' }, { authorization: `Bearer ${'a'.repeat(8_000)}` },
];

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
