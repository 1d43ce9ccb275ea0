import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { NDJSON } from './event-batch-parser';

/**
 * The ingest reads bodies as text and parses them itself, so every parse error gets our precise 400 and
 * NDJSON is supported. Only JSON and NDJSON are accepted: Fastify answers 415 for any other content type,
 * and 413 once `bodyLimit` bytes are exceeded (from Content-Length, before reading, or while streaming).
 */
export function registerEventBodyParsers(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  // Drop Fastify's defaults (it parses text/plain); anything without a parser gets 415.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(['application/json', NDJSON], { parseAs: 'string' }, (_request, body, done) => done(null, body));
}
