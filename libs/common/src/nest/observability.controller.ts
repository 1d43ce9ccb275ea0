import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Metrics } from '../metrics/metrics.port';
import type { ReadinessRegistry } from './readiness';
import { Public } from './auth';
import { METRICS, READINESS } from './tokens';

/**
 * `/healthz` (process alive, never depends on Kafka), `/readyz` (dependencies reachable), `/metrics`: open,
 * for probes and Prometheus (in Kubernetes only the cluster network reaches them).
 */
@Controller()
@Public()
export class ObservabilityController {
  constructor(
    @Inject(METRICS) private readonly metrics: Metrics,
    @Inject(READINESS) private readonly readiness: ReadinessRegistry,
  ) {}

  @Get('healthz')
  @Header('Cache-Control', 'no-store')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz(@Res() reply: FastifyReply): Promise<void> {
    const { ready, checks } = await this.readiness.evaluate();
    await reply.code(ready ? 200 : 503).header('Cache-Control', 'no-store').send({ status: ready ? 'ready' : 'not ready', checks });
  }

  @Get('metrics')
  async metricsText(@Res() reply: FastifyReply): Promise<void> {
    await reply.header('Content-Type', this.metrics.contentType).send(await this.metrics.render());
  }
}
