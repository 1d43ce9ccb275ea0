import type { KafkaAdminPort, KafkaPort } from '../kafka/kafka.port';

/**
 * One admin client, made on first use and kept. A failed request leaves it in place (the client reconnects by
 * itself); only a failed connect is dropped, so the next use connects again. Dropping the client after every
 * failed request, as before, left its native threads behind on each retry during a long broker outage.
 */
export class LazyAdmin {
  private admin?: Promise<KafkaAdminPort>;

  constructor(private readonly kafka: KafkaPort) {}

  get(): Promise<KafkaAdminPort> {
    if (!this.admin) {
      const connecting = this.kafka.admin();
      connecting.catch(() => {
        if (this.admin === connecting) this.admin = undefined;
      });
      this.admin = connecting;
    }
    return this.admin;
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    if (admin) await (await admin.catch(() => undefined))?.disconnect().catch(() => undefined);
  }
}
