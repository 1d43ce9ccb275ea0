/**
 * The HTTP ceiling: Fastify with the ingest adapter's options (same version, body limit, idle-connection
 * handling, no Host header required) and the same raw-body parser, answering 202 without touching Kafka.
 * Run as its own process by the benchmark; listens on 127.0.0.1:$PORT until SIGTERM.
 */
import { fastify } from 'fastify';

const app = fastify({
  bodyLimit: Number(process.env.BODY_LIMIT ?? 1_048_576), logger: false, forceCloseConnections: 'idle',
  http: { requireHostHeader: false } as object,
});
const utf8 = new TextDecoder('utf-8', { fatal: true });
app.removeAllContentTypeParsers();
app.addContentTypeParser(['application/json', 'application/x-ndjson'], { parseAs: 'buffer' }, (_request, body, done) => {
  const bytes = body as Buffer;
  done(null, utf8.decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
});
app.post('/v1/events', async (_request, reply) => reply.code(202).send({ accepted: 1 }));
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' }).catch((error: Error) => {
  process.stderr.write(`bare HTTP server failed: ${error.message}\n`);
  process.exit(1);
});
