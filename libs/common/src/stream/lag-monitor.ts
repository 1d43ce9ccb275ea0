/**
 * Publishes consumer lag per partition as a gauge (`<service>_consumer_lag_records`), polled through the
 * admin API, so autoscalers and dashboards see the same number Kafka does.
 */
import type { KafkaPort } from '../kafka/kafka.port';
import { LazyAdmin } from './lazy-admin';
import type { Logger } from '../logging/logger';
import type { Metrics } from '../metrics/metrics.port';

export class LagMonitor {
  private timer?: NodeJS.Timeout;
  private readonly admin: LazyAdmin;

  constructor(kafka: KafkaPort, private readonly metrics: Metrics, private readonly service: string, private readonly logger: Logger) {
    this.admin = new LazyAdmin(kafka);
  }

  start(groupId: string, topics: string[], intervalMs = 10000): void {
    const gauge = this.metrics.gauge(`${this.service}_consumer_lag_records`, 'Records not yet consumed, per topic and partition (log end minus committed offset).', ['group', 'topic', 'partition']);
    this.timer = setInterval(async () => {
      try {
        const admin = await this.admin.get();
        for (const topic of topics) {
          for (const { partition, lag } of await admin.consumerLag(groupId, topic)) gauge.set({ group: groupId, topic, partition }, lag);
        }
      } catch (error) {
        this.logger.debug('lag poll failed', { error: (error as Error).message });
      }
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.admin.close();
  }
}
