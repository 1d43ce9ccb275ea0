import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '@streamguard/common';
import { NDJSON } from './event-batch-parser';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The ingest reads bodies as bytes and parses them itself, so every parse error gets our precise 400 and
 * NDJSON is supported. Only JSON and NDJSON are accepted: Fastify answers 415 for any other content type,
 * and 413 once `bodyLimit` bytes are exceeded (from Content-Length, before reading, or while streaming a
 * chunked body). Before the body is read, a `charset` other than UTF-8 and any `Content-Encoding` (gzip,
 * …) get 415: decoding them is not supported, and guessing would turn bytes into different events. After
 * reading, bytes that are not valid UTF-8 get 400 instead of being silently replaced by U+FFFD.
 */
export function registerEventBodyParsers(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('preParsing', async (request, reply) => {
    const refusal = unsupportedEncoding(request);
    if (refusal) {
      // The unread body is still on the socket: do not let the next request on it start inside that body.
      void reply.header('connection', 'close');
      throw refusal;
    }
  });
  // Drop Fastify's defaults (it parses text/plain); anything without a parser gets 415.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(['application/json', NDJSON], { parseAs: 'buffer' }, (_request, body, done) => {
    const text = decodeUtf8(body as Buffer);
    if (text === undefined) done(new ApiError(400, 'INVALID_UTF8', 'the body is not valid UTF-8'), undefined);
    else done(null, text);
  });
}

/** The 415 for a body the ingest cannot decode, or undefined. Exported for tests. */
export function unsupportedEncoding(request: Pick<FastifyRequest, 'headers'>): ApiError | undefined {
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    return new ApiError(415, 'UNSUPPORTED_CONTENT_ENCODING', `Content-Encoding ${JSON.stringify(encoding.slice(0, 50))} is not supported; send the body uncompressed`);
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(request.headers['content-type'] ?? '')?.[1];
  if (charset !== undefined && !['utf-8', 'utf8'].includes(charset.toLowerCase())) {
    return new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `charset ${JSON.stringify(charset.slice(0, 50))} is not supported; send UTF-8 (application/json or application/x-ndjson)`);
  }
  return undefined;
}

/** Strict UTF-8 decoding (a leading BOM is dropped); undefined for invalid bytes. */
export function decodeUtf8(body: Buffer): string | undefined {
  try {
    return UTF8.decode(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
  } catch {
    return undefined;
  }
}
