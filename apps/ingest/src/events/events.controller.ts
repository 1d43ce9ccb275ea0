import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiError, AuthenticatedCaller, Caller, RequireScope } from '@streamguard/common';
import { IngestEventsService } from './ingest-events.service';

/** `POST /v1/events` (an `ingest` key; rate-limited per event): maps the use case's outcome to HTTP. */
@Controller('v1/events')
export class EventsController {
  constructor(@Inject(IngestEventsService) private readonly ingest: IngestEventsService) {}

  @Post()
  @HttpCode(202)
  @RequireScope('ingest') // authenticated before the body is read: see main.ts
  async post(@Req() request: FastifyRequest, @Caller() caller: AuthenticatedCaller): Promise<{ accepted: number }> {
    const contentType = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const idempotencyKey = request.headers['idempotency-key'];
    if (Array.isArray(idempotencyKey) || (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 256))) {
      throw new ApiError(400, 'INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key must be one value of 1-256 characters');
    }
    const outcome = await this.ingest.ingest(typeof request.body === 'string' ? request.body : '', contentType, caller, idempotencyKey);
    switch (outcome.kind) {
      case 'accepted':
        return { accepted: outcome.count };
      case 'unparseable':
        throw new ApiError(400, 'UNPARSEABLE_BODY', outcome.message);
      case 'too-many':
        throw new ApiError(413, 'TOO_MANY_EVENTS', `${outcome.count} events in one request; the limit is ${outcome.limit} (INGEST_MAX_BATCH_EVENTS). Split the batch.`);
      case 'invalid': {
        const listed = outcome.omitted ? ` Only the first ${outcome.violations.length} of ${outcome.violations.length + outcome.omitted} problems are listed.` : '';
        throw new ApiError(422, 'INVALID_EVENTS', `${outcome.invalidEvents} of ${outcome.count} events are invalid; nothing was accepted. Fix them and resend the whole request.${listed}`, outcome.violations);
      }
      case 'in-progress':
        throw new ApiError(409, 'REQUEST_IN_PROGRESS', 'a request with this Idempotency-Key is still being processed; retry after it completes');
      case 'overloaded':
        throw new ApiError(503, 'OVERLOADED', outcome.message, undefined, { 'Retry-After': String(outcome.retryAfterSeconds) });
      case 'unavailable':
        throw new ApiError(503, 'KAFKA_UNAVAILABLE', outcome.message, undefined, { 'Retry-After': String(outcome.retryAfterSeconds) });
    }
  }
}
