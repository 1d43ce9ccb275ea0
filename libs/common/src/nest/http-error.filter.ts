import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Logger } from '../logging/logger';
import { LOGGER } from './tokens';

/** Body of every error response: a stable code, a sentence that says what to do, optional details. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** An HTTP error with a stable code. Thrown by controllers only; use cases return values or domain errors. */
export class ApiError extends HttpException {
  constructor(status: number, readonly code: string, message: string, readonly details?: unknown, readonly headers: Record<string, string> = {}) {
    super({ error: { code, message, details } }, status);
  }
}

const STATUS_CODES: Record<number, string> = {
  400: 'BAD_REQUEST', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED',
  413: 'BODY_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE', 422: 'UNPROCESSABLE', 429: 'TOO_MANY_REQUESTS',
};

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'EMPTY_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_CONTENT_LENGTH',
  FST_ERR_BAD_URL: 'BAD_URL',
};
const MEDIA_TYPE_HINT = 'send application/json or application/x-ndjson';

/** Every error leaves as JSON `{error: {code, message}}`; 5xx are logged, 4xx are not (clients cause them). */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    // A stage handler's error goes back to the stage runtime, which retries or dead-letters the batch.
    if (host.getType?.() === 'rpc') throw exception;
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body, headers } = this.toResponse(exception);
    if (status >= 500) this.logger.error('request failed', { status, error: exception instanceof Error ? exception : String(exception) });
    void reply.code(status).headers(headers).send(body);
  }

  private toResponse(exception: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
    if (exception instanceof ApiError) {
      return { status: exception.getStatus(), body: exception.getResponse() as ErrorBody, headers: exception.headers };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const message = status === 415 ? `${exception.message}; ${MEDIA_TYPE_HINT}` : exception.message;
      return { status, body: { error: { code: STATUS_CODES[status] ?? `HTTP_${status}`, message } }, headers: {} };
    }
    const fastifyError = exception as { statusCode?: number; code?: string; message?: string };
    if (fastifyError?.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      const code = FASTIFY_CODES[fastifyError.code ?? ''] ?? STATUS_CODES[fastifyError.statusCode] ?? 'BAD_REQUEST';
      const message = String(fastifyError.message || 'bad request');
      return { status: fastifyError.statusCode, body: { error: { code, message: code === 'UNSUPPORTED_MEDIA_TYPE' ? `${message}; ${MEDIA_TYPE_HINT}` : message } }, headers: {} };
    }
    return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error; see the service log' } }, headers: {} };
  }
}
