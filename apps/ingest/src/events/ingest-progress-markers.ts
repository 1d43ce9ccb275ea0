import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Clock, KafkaPort, LazyAdmin, Logger, progressMarkerRecord, RecordProducer } from '@streamguard/common';
import type { ProgressMarker } from '@streamguard/stream-core';

export interface IngestProgressOptions {
  /** How often every `events.raw` partition gets a marker (INGEST_PROGRESS_INTERVAL_MS). */
  intervalMs: number;
  clock: Clock;
  logger: Logger;
}

/** How often the partition count of `events.raw` is read again. */
const PARTITION_COUNT_TTL_MS = 60_000;

/**
 * The start of in-band time (see SEMANTICS.md "Time that flows in-band"): every `intervalMs` this ingest
 * instance writes a progress marker `{ source: <instance>, time: T }` to every partition of `events.raw`, where
 * T is the clock, or the `receivedAt` of the oldest event it accepted whose write Kafka has not settled yet if
 * that is older. So every event this instance writes after a marker has `receivedAt >= T`, whichever producer
 * lane carries it. The instance's events wait for its first marker ({@link announced}), so downstream knows the
 * instance before any of its events; on a clean shutdown, once its last write settled, a `final` marker says
 * it writes nothing more. Markers go through their own idempotent producer.
 */
export class IngestProgressMarkers {
  /** Unique per process: a restarted instance is a new source (the old one leaves or times out). */
  readonly source = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  /** Resolves once the first round of markers is in Kafka. */
  readonly announced: Promise<void>;
  private announce!: () => void;
  private producer?: Promise<RecordProducer>;
  private partitions?: { count: number; readAt: number };
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  private failures = 0;
  private readonly admin: LazyAdmin;

  constructor(
    private readonly kafka: KafkaPort,
    private readonly topic: string,
    private readonly options: IngestProgressOptions,
    private readonly oldestUnsettledReceivedAt: () => number | undefined,
  ) {
    this.announced = new Promise((resolve) => { this.announce = resolve; });
    this.admin = new LazyAdmin(kafka);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    void this.tick();
  }

  /** Stops the rounds; with `final`, writes the instance's last marker (call once its writes settled). */
  async stop(final: boolean): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.round?.catch(() => undefined);
    if (final) await this.write({ source: this.source, time: this.options.clock.now(), final: true }).catch((error) => {
      this.options.logger.warn('could not write the final progress marker; downstream forgets this ingest instance after ENRICH_INGEST_SOURCE_TIMEOUT_MS', { error: (error as Error).message });
    });
    await (await this.producer?.catch(() => undefined))?.disconnect().catch(() => undefined);
    await this.admin.close();
  }

  private async tick(): Promise<void> {
    if (this.round) return; // the previous round is still waiting for Kafka
    const now = this.options.clock.now();
    const time = Math.min(now, this.oldestUnsettledReceivedAt() ?? now);
    this.round = this.write({ source: this.source, time }).then(
      () => {
        if (this.failures > 0) this.options.logger.info('progress markers written again', { after: this.failures });
        this.failures = 0;
        this.announce();
      },
      (error) => {
        this.failures += 1;
        // Start over with a fresh idempotent producer, as the lanes do after a failed write.
        const failed = this.producer;
        this.producer = undefined;
        void failed?.then((p) => p.disconnect()).catch(() => undefined);
        if (this.failures === 1) this.options.logger.warn('progress markers not written; retrying every interval', { topic: this.topic, error: (error as Error).message });
      },
    ).finally(() => { this.round = undefined; });
    await this.round;
  }

  private async write(marker: ProgressMarker): Promise<void> {
    const [producer, count] = await Promise.all([this.connect(), this.partitionCount()]);
    await producer.send(Array.from({ length: count }, (_, partition) => progressMarkerRecord(this.topic, partition, marker)));
  }

  private connect(): Promise<RecordProducer> {
    if (!this.producer) {
      const connecting = this.kafka.producer();
      connecting.catch(() => { if (this.producer === connecting) this.producer = undefined; });
      this.producer = connecting;
    }
    return this.producer;
  }

  private async partitionCount(): Promise<number> {
    const now = this.options.clock.now();
    if (this.partitions && now - this.partitions.readAt < PARTITION_COUNT_TTL_MS) return this.partitions.count;
    this.partitions = { count: await (await this.admin.get()).partitionCount(this.topic), readAt: now };
    return this.partitions.count;
  }
}
