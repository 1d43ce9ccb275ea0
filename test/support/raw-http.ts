/**
 * HTTP for hostile-input tests: `node:http` requests with any headers and body (no client-side validation,
 * optional chunked upload without Content-Length) over a bounded keep-alive pool, and raw socket exchanges
 * for requests a real client would refuse to send (bad Content-Length, malformed request lines).
 */
import { Agent, request } from 'node:http';
import { connect } from 'node:net';

export interface RawRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Send the body with Transfer-Encoding: chunked (no Content-Length), in pieces of this many bytes. */
  chunkBytes?: number;
}

export interface SendOptions {
  /**
   * For a body larger than this, send the headers first and wait up to 2 s for an early answer (a 413
   * decided from Content-Length) before writing the body, as a client using `Expect: 100-continue` would:
   * writing a body the server will not read makes it close with unread data, and the resulting TCP reset
   * can destroy its answer before the client reads it.
   */
  earlyAnswerAbove?: number;
}

export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

export function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets });
}

export function send(baseUrl: string, agent: Agent, req: RawRequest, options: SendOptions = {}): Promise<RawResponse> {
  const url = new URL(req.path ?? '/v1/events', baseUrl);
  const body = typeof req.body === 'string' ? new TextEncoder().encode(req.body) : req.body;
  const headers: Record<string, string> = { ...req.headers };
  if (body && req.chunkBytes === undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
    headers['content-length'] = String(body.byteLength);
  }
  return new Promise((resolve, reject) => {
    let answered = false;
    const r = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: req.method ?? 'POST', headers, agent }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text }));
      res.on('error', reject);
    });
    // After an early answer (413 while uploading) the server closes: a write error then is expected.
    r.on('error', (error) => { if (!answered) reject(error); });
    if (body && options.earlyAnswerAbove !== undefined && body.byteLength > options.earlyAnswerAbove && req.chunkBytes === undefined) {
      r.flushHeaders();
      const timer = setTimeout(() => { if (!answered) r.end(body); }, 2_000);
      r.once('response', (res) => { clearTimeout(timer); res.once('end', () => r.destroy()); });
    } else if (body && req.chunkBytes !== undefined) {
      // The server may answer 413 and close before the whole body is written: stop writing then.
      let offset = 0;
      const writeMore = (): void => {
        while (offset < body.length && !r.destroyed) {
          const piece = body.subarray(offset, offset + req.chunkBytes!);
          offset += piece.length;
          if (!r.write(piece)) return void r.once('drain', writeMore);
        }
        r.end();
      };
      writeMore();
    } else {
      r.end(body);
    }
  });
}

/** Writes `bytes` on a fresh connection and returns everything the server sends until it closes (or timeout). */
export function rawExchange(port: number, bytes: string | Uint8Array, options: { halfClose?: boolean; timeoutMs?: number } = {}): Promise<RawResponse & { raw: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let raw = '';
    socket.setEncoding('utf8');
    socket.setTimeout(options.timeoutMs ?? 5_000, () => { socket.destroy(); reject(new Error('no complete answer in time')); });
    socket.on('data', (chunk: string) => { raw += chunk; });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ ...parseResponse(raw), raw }));
    // halfClose: tell the server nothing more will come (a body shorter than its Content-Length).
    if (options.halfClose) socket.end(bytes);
    else socket.write(bytes);
  });
}

/** Status, content type and body (de-chunked) of a raw HTTP/1.1 response. */
export function parseResponse(raw: string): RawResponse {
  const [head, ...rest] = raw.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  const contentType = /\r\ncontent-type: ([^\r]*)/i.exec(head)?.[1] ?? '';
  let text = rest.join('\r\n\r\n');
  if (/\r\ntransfer-encoding: chunked/i.test(head)) text = dechunk(text);
  return { status, contentType, text };
}

/**
 * Streams `maxBytes` of a chunked body with no Content-Length and never sends the final chunk: any answer
 * is decided from the bytes read so far, before the body is complete. Stops writing once the server answers.
 */
export function streamUntilAnswered(port: number, path: string, maxBytes: number, extraHeaders: string[] = []): Promise<{ response: RawResponse; bytesWritten: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let raw = '';
    let bytesWritten = 0;
    socket.setEncoding('utf8');
    socket.setTimeout(15_000, () => { socket.destroy(); reject(new Error('no answer to the chunked upload')); });
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => { raw += chunk; });
    socket.on('close', () => resolve({ bytesWritten, response: parseResponse(raw) }));
    socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n${extraHeaders.map((h) => `${h}\r\n`).join('')}\r\n`);
    const piece = 'x'.repeat(64 * 1024);
    const writeMore = (): void => {
      while (raw === '' && !socket.destroyed && bytesWritten < maxBytes) {
        bytesWritten += piece.length;
        if (!socket.write(`${piece.length.toString(16)}\r\n${piece}\r\n`)) return void socket.once('drain', writeMore);
      }
    };
    writeMore();
  });
}

export function concatBytes(...parts: Array<string | ArrayLike<number>>): Uint8Array {
  const encoded = parts.map((p) => (typeof p === 'string' ? new TextEncoder().encode(p) : Uint8Array.from(p)));
  const out = new Uint8Array(encoded.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of encoded) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (eol < 0 || !(size > 0)) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/** Runs `task` over `items` with at most `limit` in flight. */
export async function mapBounded<T, R>(items: T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i], i);
    }
  }));
  return results;
}
