/**
 * Starts one service: Fastify-backed Nest app, shutdown hooks with a hard deadline, listen, one start-up line.
 * `main.ts` of each app is just a call to this with its validated config.
 */
import 'reflect-metadata';
import type { Socket } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { LoggerService } from '@nestjs/common';
import type { Metrics } from '../metrics/metrics.port';
import { METRICS } from './tokens';
import { STATUS_CODES, type Server, type ServerOptions } from 'node:http';
import type { FastifyError, FastifyHttpOptions, FastifyReply, FastifyRequest } from 'fastify';
import { JsonLogger, LogLevel } from '../logging/logger';
import type { ErrorBody } from './http-error.filter';

export interface BootstrapOptions {
  service: string;
  port: number;
  host: string;
  logLevel: LogLevel;
  shutdownGraceMs: number;
  /** Maximum request body in bytes (Fastify rejects larger ones with 413 before reading them whole). */
  bodyLimit?: number;
  /** Extra lines for the start-up message (endpoints worth knowing). */
  describe?: string[];
  /** false: the service registers its own content-type parsers in `configure` (Nest's JSON parser is skipped). */
  bodyParser?: boolean;
  /** Hook to register content-type parsers etc. before routes. */
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
}

class NestLogBridge implements LoggerService {
  constructor(private readonly logger: JsonLogger) {}
  log(message: unknown, context?: string): void { this.logger.debug(String(message), { context }); }
  error(message: unknown, trace?: string, context?: string): void { this.logger.error(String(message), { context, trace }); }
  warn(message: unknown, context?: string): void { this.logger.warn(String(message), { context }); }
}

/** The status and error code Node's HTTP parser errors are answered with (`clientError`: before any routing). */
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'REQUEST_TIMEOUT', 'the request was not received in time'],
  HPE_HEADER_OVERFLOW: [431, 'HEADERS_TOO_LARGE', 'the request headers are too large'],
  HPE_INVALID_CONTENT_LENGTH: [400, 'INVALID_CONTENT_LENGTH', 'Content-Length is not a valid number'],
  HPE_UNEXPECTED_CONTENT_LENGTH: [400, 'INVALID_CONTENT_LENGTH', 'Content-Length must not be sent together with Transfer-Encoding'],
  HPE_INVALID_TRANSFER_ENCODING: [400, 'INVALID_TRANSFER_ENCODING', 'Transfer-Encoding is not valid'],
  HPE_INVALID_CHUNK_SIZE: [400, 'INVALID_TRANSFER_ENCODING', 'a chunk size of the chunked body is not valid'],
  HPE_INVALID_METHOD: [400, 'INVALID_METHOD', 'the request method is not valid'],
};

/**
 * Answers a request Node's HTTP parser rejected (malformed request line, bad Content-Length, header overflow,
 * timeout) with the same JSON error body as every other error, then closes the connection: after a parse
 * error the rest of the stream cannot be trusted. Replaces Fastify's default, which uses its own body shape.
 */
export function jsonClientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'MALFORMED_REQUEST', 'the request is not valid HTTP/1.1'];
  const body = JSON.stringify({ error: { code, message } } satisfies ErrorBody);
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}

/** A URL Fastify cannot decode (`/%zz`) or an over-long path parameter, answered before routing. */
function frameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const [status, code] = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? [414, 'URI_TOO_LONG'] : [400, 'BAD_URL'];
  void reply.code(status).header('connection', 'close').send({ error: { code, message: error.message } } satisfies ErrorBody);
}

/** createService, then listenService: a service without consuming stages (ingest). */
export async function bootstrapService(module: unknown, options: BootstrapOptions): Promise<NestFastifyApplication> {
  const app = await createService(module, options);
  await listenService(app, options);
  return app;
}

/**
 * The Nest application (Fastify), with shutdown hooks and a hard deadline. A consuming service connects its
 * StageTransport to it (`connectMicroservice`, `startAllMicroservices`) before listenService.
 */
export async function createService(module: unknown, options: BootstrapOptions): Promise<NestFastifyApplication> {
  const logger = new JsonLogger(options.logLevel, { service: options.service });
  // On shutdown, idle keep-alive connections close at once; requests in flight finish (their events are acked).
  // Every rejection, even one Node or Fastify answers before Nest sees the request, gets the JSON error body.
  // A missing Host header is accepted (nothing here routes by host) instead of Node's empty 400.
  const http: ServerOptions = { requireHostHeader: false };
  const fastifyOptions: FastifyHttpOptions<Server> = {
    bodyLimit: options.bodyLimit ?? 1024 * 1024, logger: false, forceCloseConnections: 'idle',
    clientErrorHandler: jsonClientErrorHandler, frameworkErrors: frameworkError, http,
  };
  const adapter = new FastifyAdapter(fastifyOptions);
  const app = await NestFactory.create<NestFastifyApplication>(module as never, adapter, {
    logger: new NestLogBridge(logger), bufferLogs: false, abortOnError: false, bodyParser: options.bodyParser ?? true,
  });
  countRequests(app, options.service);
  await options.configure?.(app);
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  // A hard deadline so a stuck dependency can never keep a terminating pod alive past its grace period.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info('shutting down', { signal, graceMs: options.shutdownGraceMs });
      setTimeout(() => {
        logger.error('graceful shutdown exceeded SHUTDOWN_GRACE_MS; exiting', { graceMs: options.shutdownGraceMs });
        process.exit(1);
      }, options.shutdownGraceMs).unref();
    });
  }
  return app;
}

/** Listens on the HTTP port and writes the one start-up line. */
export async function listenService(app: NestFastifyApplication, options: BootstrapOptions): Promise<void> {
  const logger = new JsonLogger(options.logLevel, { service: options.service });
  await app.listen({ port: options.port, host: options.host });
  logger.info(`${options.service} listening on http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${options.port}`, {
    endpoints: ['/healthz', '/readyz', '/metrics', ...(options.describe ?? [])],
  });
}

/** Turns a start-up failure (bad config, unreachable dependency) into one clear line and exit code 1. */
export function exitOnStartupError(service: string): (error: unknown) => never {
  return (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${service} failed to start: ${message}\n`);
    process.exit(1);
  };
}

/**
 * `<service>_http_requests_total{method, route, status}`: every response, by route pattern (not raw URL, so
 * cardinality stays bounded; unmatched paths are `unmatched`). The ingest error-rate alert divides 503s by it.
 */
function countRequests(app: NestFastifyApplication, service: string): void {
  const metrics = app.get<Metrics>(METRICS);
  const requests = metrics.counter(`${service}_http_requests_total`, 'HTTP responses by method, route pattern and status code.', ['method', 'route', 'status']);
  app.getHttpAdapter().getInstance().addHook('onResponse', (request, reply, done) => {
    requests.inc({ method: request.method, route: request.routeOptions?.url ?? 'unmatched', status: reply.statusCode });
    done();
  });
}
