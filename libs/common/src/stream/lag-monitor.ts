/**
 * Publishes consumer lag per partition as a gauge (`<service>_consumer_lag_records`), polled through the
 * admin API, so autoscalers and dashboards see the same number Kafka does.
 */
import type { KafkaAdminPort, KafkaPort } from '../kafka/kafka.port';
import type { Logger } from '../logging/logger';
import type { Metrics } from '../metrics/metrics.port';

export class LagMonitor {
  private timer?: NodeJS.Timeout;
  private admin?: Promise<KafkaAdminPort>;

  constructor(private readonly kafka: KafkaPort, private readonly metrics: Metrics, private readonly service: string, private readonly logger: Logger) {}

  start(groupId: string, topics: string[], intervalMs = 10000): void {
    const gauge = this.metrics.gauge(`${this.service}_consumer_lag_records`, 'Records not yet consumed, per topic and partition (log end minus committed offset).', ['group', 'topic', 'partition']);
    this.timer = setInterval(async () => {
      try {
        this.admin ??= this.kafka.admin();
        const admin = await this.admin;
        for (const topic of topics) {
          for (const { partition, lag } of await admin.consumerLag(groupId, topic)) gauge.set({ group: groupId, topic, partition }, lag);
        }
      } catch (error) {
        this.admin = undefined;
        this.logger.debug('lag poll failed', { error: (error as Error).message });
      }
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.admin) await (await this.admin.catch(() => undefined))?.disconnect().catch(() => undefined);
  }
}
