import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { GroupCommit, KAFKA, KafkaPort, OutboundRecord, RawEventMessage, RecordProducer, TransactionEvent } from '@streamguard/common';
import { IngestProgressMarkers, IngestProgressOptions } from './ingest-progress-markers';

/** Port: make a batch of events durable in `events.raw` (acks=all), all or nothing from the caller's view. */
export interface EventPublisher {
  publish(events: TransactionEvent[], tenantId: string, receivedAt: number): Promise<void>;
  isReady(): boolean;
}
export const EVENT_PUBLISHER = Symbol('EventPublisher');

/**
 * Kafka adapter of EventPublisher: key = accountId, value = RawEventMessage JSON, idempotent producers.
 *
 * Concurrent requests share Kafka writes (group commit): a request is acknowledged when the write that
 * carried its events was acknowledged by all in-sync replicas. An idempotent KafkaJS producer has one request
 * in flight per broker, so one producer caps ingest at (events per write) / (acks=all round trip) however idle
 * the CPU is (single-event requests left a third of ingest's CPU idle). So there may be `lanes` producers
 * (INGEST_KAFKA_PRODUCERS), each with its own group commit; a request goes to the least busy lane (an idle one
 * first). More lanes mean smaller writes: on the benchmark machine, where the broker shares the two cores, 2
 * lanes cost the broker more CPU per event and gave 12,652 instead of ~16,000 single-event requests/s, so the
 * default is 1; they pay off when the round trip to remote brokers is the limit.
 * Order: the events of one request stay in order (one lane, one write); requests in flight at the same time
 * have no order to keep, and a request sent after another was acknowledged is written after it.
 */
@Injectable()
export class KafkaEventPublisher implements EventPublisher, OnApplicationShutdown {
  private readonly lanes: ProducerLane[];
  /** `receivedAt` of every publish not settled by Kafka yet (count per value): the floor of the progress markers. */
  private readonly unsettled = new Map<number, number>();
  private readonly writes = new Set<Promise<void>>();
  private readonly progress?: IngestProgressMarkers;

  /** Without `progress` no progress markers are written (unit tests of the lanes). */
  constructor(@Inject(KAFKA) kafka: KafkaPort, private readonly topic: string, lanes = 1, progress?: IngestProgressOptions) {
    this.lanes = Array.from({ length: Math.max(1, lanes) }, () => new ProducerLane(kafka));
    if (progress) this.progress = new IngestProgressMarkers(kafka, topic, progress, () => this.oldestUnsettledReceivedAt());
  }

  publish(events: TransactionEvent[], tenantId: string, receivedAt: number): Promise<void> {
    const records = events.map((event): OutboundRecord => {
      const message: RawEventMessage = { schemaVersion: 1, ...event, tenantId, receivedAt }; // the key's tenant, whatever the event holds
      return { topic: this.topic, key: event.accountId, value: JSON.stringify(message) };
    });
    let lane = this.lanes[0];
    for (const candidate of this.lanes) if (candidate.load < lane.load) lane = candidate;
    this.unsettled.set(receivedAt, (this.unsettled.get(receivedAt) ?? 0) + 1);
    // Not before this instance's first progress marker: downstream must know a source before its events.
    const written = this.progress ? this.progress.announced.then(() => lane.submit(records)) : lane.submit(records);
    const settled = written.finally(() => {
      const left = (this.unsettled.get(receivedAt) ?? 1) - 1;
      if (left > 0) this.unsettled.set(receivedAt, left);
      else this.unsettled.delete(receivedAt);
      this.writes.delete(settled);
    });
    this.writes.add(settled);
    return settled;
  }

  private oldestUnsettledReceivedAt(): number | undefined {
    let oldest: number | undefined;
    for (const receivedAt of this.unsettled.keys()) if (oldest === undefined || receivedAt < oldest) oldest = receivedAt;
    return oldest;
  }

  /** Ready once one producer is connected (the others connect on first use or in the background). */
  isReady(): boolean {
    return this.lanes.some((lane) => lane.isConnected());
  }

  /** Connects every lane and starts the progress markers; resolves when a lane is connected, rejects when none could be. */
  connect(): Promise<void> {
    this.progress?.start();
    return Promise.any(this.lanes.map((lane) => lane.connect())).then(() => undefined, (error: AggregateError) => { throw error.errors[0]; });
  }

  /** After the HTTP server stopped taking requests: the last writes settle, then the final progress marker. */
  async onApplicationShutdown(): Promise<void> {
    // Kafka settles every write within its 30 s delivery timeout; a write still open after that gets no final marker.
    const settling = Promise.allSettled([...this.writes]);
    await Promise.race([settling, new Promise((resolve) => setTimeout(resolve, FINAL_MARKER_WAIT_MS).unref())]);
    await this.progress?.stop(this.writes.size === 0);
    await Promise.all(this.lanes.map((lane) => lane.disconnect()));
  }
}

/** Longest shutdown waits for the last writes before the final progress marker. */
const FINAL_MARKER_WAIT_MS = 35_000;

/** One idempotent producer and the group commit that feeds it. */
class ProducerLane {
  private producer?: RecordProducer;
  private connecting?: Promise<RecordProducer>;
  private readonly writes = new GroupCommit<OutboundRecord>((records) => this.write(records));

  constructor(private readonly kafka: KafkaPort) {}

  get load(): number {
    return this.writes.load;
  }

  submit(records: OutboundRecord[]): Promise<void> {
    return this.writes.submit(records);
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

  isConnected(): boolean {
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

  async disconnect(): Promise<void> {
    await this.producer?.disconnect();
  }
}
