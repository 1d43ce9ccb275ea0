import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { GroupCommit, KAFKA, KafkaPort, OutboundRecord, RawEventMessage, RecordProducer, TransactionEvent } from '@streamguard/common';

/** Port: make a batch of events durable in `events.raw` (acks=all), all or nothing from the caller's view. */
export interface EventPublisher {
  publish(events: TransactionEvent[], tenantId: string, receivedAt: number): Promise<void>;
  isReady(): boolean;
}
export const EVENT_PUBLISHER = Symbol('EventPublisher');

/**
 * Kafka adapter of EventPublisher: key = accountId, value = RawEventMessage JSON, idempotent producer.
 * Concurrent requests share Kafka writes (group commit): a request is acknowledged when the write that
 * carried its events was acknowledged by all in-sync replicas.
 */
@Injectable()
export class KafkaEventPublisher implements EventPublisher, OnApplicationShutdown {
  private producer?: RecordProducer;
  private connecting?: Promise<RecordProducer>;
  private readonly writes = new GroupCommit<OutboundRecord>((records) => this.write(records));

  constructor(@Inject(KAFKA) private readonly kafka: KafkaPort, private readonly topic: string) {}

  publish(events: TransactionEvent[], tenantId: string, receivedAt: number): Promise<void> {
    return this.writes.submit(events.map((event) => {
      const message: RawEventMessage = { schemaVersion: 1, ...event, tenantId, receivedAt }; // the key's tenant, whatever the event holds
      return { topic: this.topic, key: event.accountId, value: JSON.stringify(message) };
    }));
  }

  private async write(records: OutboundRecord[]): Promise<void> {
    const producer = await this.connect();
    try {
      await producer.send(records);
    } catch (error) {
      // Start over with a fresh idempotent producer (new producer id): after exhausted retries the old
      // one's sequence numbers may be out of step with the broker.
      if (this.producer === producer) this.producer = undefined;
      void producer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  isReady(): boolean {
    return this.producer?.isConnected() ?? false;
  }

  /** Connects lazily and again after a failure, so ingest starts (and reports not-ready) without a broker. */
  connect(): Promise<RecordProducer> {
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= this.kafka.producer().then(
      (p) => { this.producer = p; this.connecting = undefined; return p; },
      (error) => { this.connecting = undefined; throw error; },
    );
    return this.connecting;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer?.disconnect();
  }
}
