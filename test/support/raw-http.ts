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
  body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked (no Content-Length), in pieces of this many bytes. */
  chunkBytes?: number;
}

export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

export function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets });
}

export function send(baseUrl: string, agent: Agent, req: RawRequest): Promise<RawResponse> {
  const url = new URL(req.path ?? '/v1/events', baseUrl);
  const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
  const headers: Record<string, string> = { ...req.headers };
  if (body && req.chunkBytes === undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
    headers['content-length'] = String(body.length);
  }
  return new Promise((resolve, reject) => {
    const r = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: req.method ?? 'POST', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('error', reject);
    if (body && req.chunkBytes !== undefined) {
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
export function rawExchange(port: number, bytes: string | Buffer, timeoutMs = 5_000): Promise<RawResponse & { raw: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const finish = (): void => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = raw.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const contentType = /\r\ncontent-type: ([^\r]*)/i.exec(head)?.[1] ?? '';
      let text = rest.join('\r\n\r\n');
      if (/\r\ntransfer-encoding: chunked/i.test(head)) text = dechunk(text);
      resolve({ status, contentType, text, raw });
    };
    socket.setTimeout(timeoutMs, () => { socket.destroy(); reject(new Error(`no complete answer within ${timeoutMs} ms`)); });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', finish);
    socket.write(bytes);
  });
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
