/**
 * Publishes the `outbox` rows of one producer name to Kafka, in id order, then deletes them.
 *
 * Rows are written by the stage's Postgres transaction, so nothing is published for a rolled-back batch and
 * nothing committed is ever lost: if the relay dies after Kafka acknowledged but before the DELETE
 * committed, those rows are published again (at-least-once on the output topic; outputs carry
 * deterministic ids — `alertId`, window identity + version — so readers can drop repeats).
 * `FOR UPDATE SKIP LOCKED` lets several instances relay the same producer's rows without blocking.
 */
import type { Logger } from '../logging/logger';
import type { Counter } from '../metrics/metrics.port';
import type { OutboundRecord, RecordProducer } from '../kafka/kafka.port';
import type { Database, Queryable } from '../postgres/database';
import { backoffMs } from './processing-error';

const BATCH_ROWS = 1000;

export class OutboxRelay {
  private running?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly db: Database,
    private readonly producer: RecordProducer,
    private readonly producerName: string,
    private readonly logger: Logger,
    private readonly published: Counter,
  ) {}

  /** Inside the caller's transaction: queue records for publication. */
  async enqueue(tx: Queryable, records: OutboundRecord[]): Promise<void> {
    if (records.length === 0) return;
    await tx.query(
      `INSERT INTO outbox (producer, topic, key, value, headers)
       SELECT $1, t, k, v, h FROM unnest($2::text[], $3::text[], $4::bytea[], $5::jsonb[]) AS r(t, k, v, h)`,
      [
        this.producerName,
        records.map((r) => r.topic),
        records.map((r) => r.key),
        records.map((r) => (Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value, 'utf8'))),
        records.map((r) => JSON.stringify(r.headers ?? {})),
      ],
    );
  }

  /** Publish soon; many pokes while a run is in progress coalesce into one more run. */
  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    });
  }

  /** Also publish periodically, for rows left by a crashed instance or a failed earlier attempt. */
  start(intervalMs = 1000): void {
    this.timer = setInterval(() => this.poke(), intervalMs);
    this.timer.unref();
    this.poke();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    this.stopped = true;
  }

  /** Waits for the current publication run (tests and graceful shutdown). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        const published = await this.publishOnce();
        this.failures = 0;
        if (published < BATCH_ROWS) return;
      }
    } catch (error) {
      this.failures += 1;
      const delay = backoffMs(this.failures);
      this.logger.warn('outbox publication failed; will retry', { producer: this.producerName, delayMs: delay, error: (error as Error).message });
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
      this.again = true;
    }
  }

  private publishOnce(): Promise<number> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string; topic: string; key: string | null; value: Buffer; headers: Record<string, string> }>(
        'SELECT id, topic, key, value, headers FROM outbox WHERE producer = $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED',
        [this.producerName, BATCH_ROWS],
      );
      if (rows.length === 0) return 0;
      await this.producer.send(rows.map((r) => ({ topic: r.topic, key: r.key, value: r.value, headers: r.headers })));
      await tx.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      this.published.inc({}, rows.length);
      return rows.length;
    });
  }
}
