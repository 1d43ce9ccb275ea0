import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { JsonLogger } from '../logging/logger';
import { PrometheusMetrics } from '../metrics/prometheus-metrics';
import type { ConsumingStage, PartitionInfo, StageHandler } from '../stream/consuming-stage';
import { ReadinessRegistry } from './readiness';
import { CONSUMING_STAGES, PartitionContext, STAGE_SERVICE, StageController, StageTransport } from './stage-transport';
import { LOGGER, METRICS, READINESS } from './tokens';

/** A stage whose "runtime" is the test: it keeps the handler so the test can hand it batches. */
class ScriptedStage implements ConsumingStage {
  handle?: StageHandler;
  stopped = false;
  constructor(readonly pattern: string) {}
  start(handle: StageHandler): void { this.handle = handle; }
  isReady(): boolean { return this.handle !== undefined && !this.stopped; }
  async stop(): Promise<void> { this.stopped = true; }
}

@Injectable()
class Doubler {
  double(values: number[]): number[] { return values.map((v) => v * 2); }
}

const seen: Array<{ payload: unknown; topic: string; partition: number; state: unknown }> = [];

@StageController()
class NumbersController {
  constructor(private readonly doubler: Doubler) {}

  @EventPattern<string>('numbers')
  async double(@Payload() values: number[], @Ctx() context: PartitionContext<{ name: string }>): Promise<number[]> {
    seen.push({ payload: values, topic: context.topic, partition: context.partition, state: context.state });
    lines.length = 0;
    logger.info('handling'); // carries the batch's log context
    if (values.includes(-1)) throw new Error('cannot double -1');
    return this.doubler.double(values);
  }
}

const lines: string[] = [];
const logger = new JsonLogger('info', { service: 'test' }, (line) => lines.push(line));

async function start(stages: ConsumingStage[]) {
  const metrics = new PrometheusMetrics('test');
  const readiness = new ReadinessRegistry();
  @Module({
    controllers: [NumbersController],
    providers: [
      Doubler, StageTransport,
      { provide: CONSUMING_STAGES, useValue: stages },
      { provide: STAGE_SERVICE, useValue: 'test' },
      { provide: LOGGER, useValue: logger },
      { provide: METRICS, useValue: metrics },
      { provide: READINESS, useValue: readiness },
    ],
  })
  class TestModule {}
  const app = await NestFactory.create(TestModule, new FastifyAdapter(), { logger: false, abortOnError: false });
  app.connectMicroservice({ strategy: app.get(StageTransport) });
  await app.startAllMicroservices();
  return { app, metrics, readiness };
}

const partition = (state?: unknown): PartitionInfo => ({ topic: 'numbers.t1', partition: 2, firstOffset: '40', records: 3, state });

describe('StageTransport', () => {
  beforeEach(() => { seen.length = 0; });

  it('runs the @EventPattern handler built by DI on a batch, with its partition context, and returns its result', async () => {
    const stage = new ScriptedStage('numbers');
    const { app, metrics, readiness } = await start([stage]);
    try {
      expect(await stage.handle!([1, 2, 3], partition({ name: 'state of p2' }))).toEqual([2, 4, 6]);
      expect(seen).toEqual([{ payload: [1, 2, 3], topic: 'numbers.t1', partition: 2, state: { name: 'state of p2' } }]);
      // Processing hooks: the handler's log lines carry the batch, and the batch is counted and timed.
      expect(JSON.parse(lines[0])).toMatchObject({ msg: 'handling', topic: 'numbers.t1', partition: 2, firstOffset: '40' });
      const text = await metrics.render();
      expect(text).toMatch(/test_handler_batches_total\{[^}]*pattern="numbers"[^}]*outcome="ok"[^}]*\} 1/);
      expect(text).toMatch(/test_handler_duration_seconds_count\{[^}]*pattern="numbers"[^}]*\} 1/);
      expect((await readiness.evaluate()).checks.kafka).toBe(true);
    } finally {
      await app.close();
    }
    expect(stage.stopped).toBe(true); // the stages stop with the application
  });

  it('hands a handler error back to the stage runtime (which retries or dead-letters), counted as an error', async () => {
    const stage = new ScriptedStage('numbers');
    const { app, metrics } = await start([stage]);
    try {
      const failure = await stage.handle!([-1], partition()).then(() => null, (error: unknown) => error);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toBe('cannot double -1');
      expect(await metrics.render()).toMatch(/test_handler_batches_total\{[^}]*outcome="error"[^}]*\} 1/);
    } finally {
      await app.close();
    }
  });

  it('refuses to start a stage whose pattern has no handler, naming the pattern', async () => {
    await expect(start([new ScriptedStage('numbers'), new ScriptedStage('letters')])).rejects.toThrow("no @EventPattern('letters') handler");
  });
});
