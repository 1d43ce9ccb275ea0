/**
 * The services' consuming stages as a Nest microservice: a custom transport over the stream runtime.
 *
 * A service declares its stages (CONSUMING_STAGES: pattern + runtime) and handles them in controllers:
 *
 *     @EventPattern(DEFAULT_TOPICS.raw)
 *     enrich(@Payload() events: DecodedRecord<RawEventMessage>[], @Ctx() context: PartitionContext) { … }
 *
 * The handler gets one partition's batch and returns what the stage commits (outputs, or a StageOutput).
 * Assignment, restore, fencing, ticks, commits and the outbox stay in the runtime; handlers are built by
 * Nest's dependency injection and hold no Kafka or Postgres transaction plumbing. `main.ts` connects it:
 * `app.connectMicroservice({ strategy: app.get(StageTransport) })`, then `app.startAllMicroservices()`.
 * Stage controllers are `@StageController()`s (a Controller whose handlers' errors reach the stage runtime).
 *
 * Every batch runs inside Nest 12's processing hooks: the start hook puts the batch's topic, partition and
 * first offset into the log context of everything the handler logs, the end hook counts the batch and its
 * handler time (`<service>_handler_batches_total`, `<service>_handler_duration_seconds`).
 */
import { applyDecorators, BeforeApplicationShutdown, Catch, Controller, Inject, Injectable, RpcExceptionFilter, UseFilters } from '@nestjs/common';
import { BaseRpcContext, CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { lastValueFrom, Observable, throwError } from 'rxjs';
import { withLogContext } from '../logging/log-context';
import type { Logger } from '../logging/logger';
import { LATENCY_BUCKETS_SECONDS, Metrics } from '../metrics/metrics.port';
import type { ConsumingStage, PartitionInfo } from '../stream/consuming-stage';
import type { ReadinessRegistry } from './readiness';
import { LOGGER, METRICS, READINESS } from './tokens';

export const CONSUMING_STAGES = Symbol('ConsumingStages');
export const STAGE_SERVICE = Symbol('StageService');

/** `@Ctx()` of a stage handler: the partition of the batch, and a stateful stage's partition state. */
export class PartitionContext<State = unknown> extends BaseRpcContext<[PartitionInfo, string, number]> {
  /** Whether the handler failed (for the processing end hook). */
  failed = false;

  get topic(): string { return this.args[0].topic; }
  get partition(): number { return this.args[0].partition; }
  get firstOffset(): string { return this.args[0].firstOffset; }
  /** The partition's processor, restored from Postgres (stateful stages). */
  get state(): State { return this.args[0].state as State; }
  /** The `@EventPattern` the batch is handled by. */
  get pattern(): string { return this.args[1]; }
  /** When the transport received the batch (process time, ms). */
  get receivedAt(): number { return this.args[2]; }
}

/**
 * A handler's error, unchanged, back to the stage runtime: it decides between retry and DLQ from the error
 * (`isRetriable`, its code). Nest's default RPC filter would replace it with "Internal server error".
 */
@Catch()
export class StageErrorFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

/** A controller of stage handlers: `@Controller()` + StageErrorFilter (their errors go back to the runtime unchanged). */
export function StageController(): ClassDecorator {
  return applyDecorators(Controller(), UseFilters(StageErrorFilter));
}

@Injectable()
export class StageTransport extends Server implements CustomTransportStrategy, BeforeApplicationShutdown {
  /** We await every handler's result: its error must reach the stage runtime (retry, DLQ), not only Nest's log. */
  override readonly propagatesEventHandlerErrors = true;
  private stopped?: Promise<void>;

  constructor(
    @Inject(CONSUMING_STAGES) private readonly stages: ConsumingStage[],
    @Inject(STAGE_SERVICE) service: string,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(METRICS) metrics: Metrics,
    @Inject(READINESS) readiness: ReadinessRegistry,
  ) {
    super();
    const batches = metrics.counter(`${service}_handler_batches_total`, 'Batches handled by the stage handlers, by pattern and outcome.', ['pattern', 'outcome']);
    const duration = metrics.histogram(`${service}_handler_duration_seconds`, 'Time in a stage handler per batch, by pattern.', LATENCY_BUCKETS_SECONDS, ['pattern']);
    this.setOnProcessingStartHook((_transport, context, done) => {
      const { topic, partition, firstOffset } = context as PartitionContext;
      return withLogContext({ topic, partition, firstOffset }, done);
    });
    this.setOnProcessingEndHook((_transport, context) => {
      const { pattern, failed, receivedAt } = context as PartitionContext;
      batches.inc({ pattern, outcome: failed ? 'error' : 'ok' });
      duration.observe({ pattern }, (Date.now() - receivedAt) / 1000);
    });
    readiness.register('kafka', () => this.stages.every((stage) => stage.isReady()));
  }

  listen(callback: (...optionalParams: unknown[]) => void): void {
    try {
      for (const stage of this.stages) {
        const handler = this.getHandlerByPattern(stage.pattern);
        if (!handler) throw new Error(`no @EventPattern('${stage.pattern}') handler in this service's controllers: the stage cannot run without one`);
        stage.start((payload, partition) => this.invoke(stage.pattern, handler, payload, partition));
      }
      this.log.info('stage transport listening', { patterns: this.stages.map((s) => s.pattern) });
      callback();
    } catch (error) {
      callback(error);
    }
  }

  private async invoke(pattern: string, handler: MessageHandler, payload: unknown, partition: PartitionInfo): Promise<unknown> {
    const context = new PartitionContext([partition, pattern, Date.now()]);
    let result: unknown;
    await this.runWithProcessingHooks(context, async (runEndHook) => {
      try {
        result = await lastValueFrom(this.transformToObservable(await handler(payload, context)), { defaultValue: undefined });
      } catch (error) {
        context.failed = true;
        throw error;
      } finally {
        runEndHook();
      }
    });
    return result;
  }

  /** Before the database closes (onApplicationShutdown): stop fetching, finish and commit in-flight batches. */
  beforeApplicationShutdown(): Promise<void> {
    return this.close();
  }

  /** Stops the stages one after the other, in the order declared: a stage that feeds another comes first. */
  close(): Promise<void> {
    this.stopped ??= (async () => {
      for (const stage of this.stages) await stage.stop();
    })();
    return this.stopped;
  }

  on(): never {
    throw new Error('StageTransport has no events to listen to');
  }

  unwrap<T>(): T {
    throw new Error('StageTransport wraps no client');
  }
}
