/**
 * What a rejected ingest request gets back (always `{error: {code, message}}`, never Fastify's or Node's own
 * shape) and what is logged about it: 4xx nothing, 5xx the error only — never the request body or headers.
 * The filter and the client-error handler live in libs/common; they are checked here against the ingest's
 * hostile inputs.
 */
import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ArgumentsHost } from '@nestjs/common';
import { BadRequestException, PayloadTooLargeException } from '@nestjs/common';
import { ApiError, HttpErrorFilter, JsonLogger, jsonClientErrorHandler } from '@streamguard/common';

const SECRET_BODY = '{"eventId":"e1","cardId":"4111111111111111","apiKey":"sk_live_SECRET"}';
const SECRET_HEADER = 'Bearer sk_live_SECRET';

function harness() {
  const lines: string[] = [];
  const filter = new HttpErrorFilter(new JsonLogger('debug', { service: 'ingest' }, (line) => lines.push(line)));
  const sent: { status?: number; headers?: Record<string, string>; body?: unknown } = {};
  const reply = {
    code(status: number) { sent.status = status; return reply; },
    headers(headers: Record<string, string>) { sent.headers = headers; return reply; },
    send(body: unknown) { sent.body = body; return reply; },
  };
  const request = { body: SECRET_BODY, headers: { authorization: SECRET_HEADER, 'x-api-key': 'sk_live_SECRET' } };
  const host = { switchToHttp: () => ({ getResponse: () => reply, getRequest: () => request }) } as unknown as ArgumentsHost;
  return { filter, host, sent, lines };
}

describe('HttpErrorFilter on ingest errors', () => {
  it.each([
    ['ApiError 422 with details', new ApiError(422, 'INVALID_EVENTS', '1 of 1 events are invalid', [{ index: 0, field: 'cardId', reason: 'x' }]), 422, 'INVALID_EVENTS'],
    ['Fastify body too large', Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }), 413, 'BODY_TOO_LARGE'],
    ['Fastify media type', Object.assign(new Error('Unsupported Media Type'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['Fastify bad Content-Length', Object.assign(new Error('Request body size did not match Content-Length'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_CONTENT_LENGTH' }), 400, 'INVALID_CONTENT_LENGTH'],
    ['an aborted upload (stream error given status 400)', Object.assign(new Error('aborted'), { statusCode: 400, code: 'ECONNRESET' }), 400, 'BAD_REQUEST'],
    ['an unknown Fastify 4xx', Object.assign(new Error('nope'), { statusCode: 429, code: 'FST_SOMETHING' }), 429, 'TOO_MANY_REQUESTS'],
    ['Nest BadRequestException', new BadRequestException('bad'), 400, 'BAD_REQUEST'],
    ['Nest PayloadTooLargeException', new PayloadTooLargeException(), 413, 'BODY_TOO_LARGE'],
  ])('answers %s with a JSON error body and logs nothing', (_name, exception, status, code) => {
    const { filter, host, sent, lines } = harness();
    filter.catch(exception, host);
    expect(sent.status).toBe(status);
    expect(sent.body).toMatchObject({ error: { code, message: expect.any(String) } });
    expect(lines).toEqual([]);
  });

  it('adds what to send to a Fastify 415', () => {
    const { filter, host, sent } = harness();
    filter.catch(Object.assign(new Error('Unsupported Media Type'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }), host);
    expect(sent.body).toEqual({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported Media Type; send application/json or application/x-ndjson' } });
  });

  it.each([
    ['a TypeError', new TypeError('Cannot read properties of undefined')],
    ['a thrown string', 'boom'],
    ['null', null],
    ['an error claiming status 200', Object.assign(new Error('odd'), { statusCode: 200 })],
  ])('answers %s with a generic 500 that leaks no internals', (_name, exception) => {
    const { filter, host, sent } = harness();
    filter.catch(exception, host);
    expect(sent).toMatchObject({ status: 500, body: { error: { code: 'INTERNAL', message: 'internal error; see the service log' } } });
  });

  it('logs a 5xx as one structured JSON line with the error only: no body, no headers, no API key', () => {
    const { filter, host, lines } = harness();
    filter.catch(new ApiError(503, 'KAFKA_UNAVAILABLE', 'Kafka did not acknowledge the events (timeout)'), host);
    filter.catch(new Error('unexpected'), host);
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(JSON.parse(line)).toMatchObject({ level: 'error', service: 'ingest', msg: 'request failed' });
      expect(line).not.toContain('sk_live_SECRET');
      expect(line).not.toContain('4111111111111111');
      expect(line.toLowerCase()).not.toContain('authorization');
    }
  });
});

describe('jsonClientErrorHandler (requests Node\'s HTTP parser rejects)', () => {
  class FakeSocket extends EventEmitter {
    written = '';
    destroyed = false;
    writable = true;
    write(data: string) { this.written += data; return true; }
    destroy() { this.destroyed = true; return this; }
  }

  it.each([
    ['HPE_INVALID_CONTENT_LENGTH', 400, 'INVALID_CONTENT_LENGTH'],
    ['HPE_UNEXPECTED_CONTENT_LENGTH', 400, 'INVALID_CONTENT_LENGTH'],
    ['HPE_INVALID_CHUNK_SIZE', 400, 'INVALID_TRANSFER_ENCODING'],
    ['HPE_INVALID_METHOD', 400, 'INVALID_METHOD'],
    ['HPE_HEADER_OVERFLOW', 431, 'HEADERS_TOO_LARGE'],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'REQUEST_TIMEOUT'],
    ['HPE_SOMETHING_NEW', 400, 'MALFORMED_REQUEST'],
  ])('%s → %i %s as JSON, then closes the connection', (errorCode, status, code) => {
    const socket = new FakeSocket();
    jsonClientErrorHandler(Object.assign(new Error('Parse Error'), { code: errorCode }), socket as unknown as Socket);
    const [head, body] = socket.written.split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toBe(`HTTP/1.1 ${status} ${STATUS_CODES[status]}`);
    expect(head).toContain('Content-Type: application/json; charset=utf-8');
    expect(head).toContain(`Content-Length: ${Buffer.byteLength(body)}`);
    expect(head).toContain('Connection: close');
    expect(JSON.parse(body)).toEqual({ error: { code, message: expect.any(String) } });
    expect(socket.destroyed).toBe(true);
  });

  it('writes nothing to a socket the client already reset', () => {
    const socket = new FakeSocket();
    jsonClientErrorHandler(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), socket as unknown as Socket);
    expect(socket.written).toBe('');
  });
});
