/**
 * A stateful stage whose state, results and input offsets commit together in ONE Postgres transaction
 * (used by aggregate and alert).
 *
 * Guarantee ("exactly once in effect"): every input record changes the state and the result tables exactly
 * once, whatever crashes, restarts or rebalances happen, because
 * 1. Restoring a partition takes an ownership epoch (`consumer_offsets.epoch`, incremented in the same
 *    transaction that reads the state, so the snapshot is consistent). Every later transaction locks the
 *    row `FOR UPDATE` and must find that epoch and the offset this copy was built from; otherwise another
 *    instance has taken over (we are a zombie or were rebalanced away): we roll back, drop our copy and
 *    reload. Timer-driven commits are fenced the same way.
 * 2. Records below `next_offset` are skipped, so a redelivered batch changes nothing.
 * 3. Output records for Kafka are written to the `outbox` table in the same transaction and published after
 *    commit by the partition's owner through a TransactionalOutbox: exactly once for read_committed readers.
 *    Publication runs beside processing (one publisher per partition, which takes everything committed so
 *    far), so the next batch is processed and committed while the previous one's outputs go to Kafka.
 * Kafka's own committed offset is only a hint for where to fetch from; Postgres is the source of truth.
 *
 * Offset gaps: a partition whose stored next offset lies below the input's log start lost records to
 * retention before they were processed (a partition stalled longer than the topic keeps records). Such a
 * partition is not processed at all — `<service>_partition_offset_gap_records` says how many records are gone,
 * and the error log says how to accept the loss (`npm run admin -- accept-offset-gap`) — rather than going on
 * from the log start as if nothing was missing.
 */
import type { Logger } from '../logging/logger';
import type { Clock } from '../time/clock';
import type { Assignment, BatchConsumer, BatchControl, InboundRecord, OutboundRecord, PartitionBatch } from '../kafka/kafka.port';
import type { Database, Queryable } from '../postgres/database';
import { BlockedPartitions } from './blocked-partitions';
import { errorCode, isolatedPoisonError, isPoisonSuspect, isRetriable, jitteredBackoffMs, OwnershipLostError, ProcessingError } from './processing-error';
import { toDlqRecord } from './record-codec';
import type { PartitionInfo } from './consuming-stage';
import type { StageMetrics } from './stage-metrics';
import type { TransactionalOutbox } from './transactional-outbox';

export interface StateChanges {
  upserts: Array<[string, unknown]>;
  deletes: string[];
}

/** What a processor produced for one batch (or one timer tick). */
export interface StageOutput {
  outbox: OutboundRecord[];
  /**
   * Writes to result tables, run inside the transaction. May return more records for the outbox (e.g. only
   * the alerts that were really new).
   */
  write?: (tx: Queryable) => Promise<OutboundRecord[] | void>;
  /** Input records to dead-letter (offset within the batch + why). */
  rejected?: Array<{ offset: string; error: Error }>;
  /** Ingest acceptance times of the records this output covers, for the end-to-end latency histogram. */
  receivedAt?: number[];
}

/** The per-partition domain logic: a window operator, a rule engine… Built from restored state. */
export interface PartitionProcessor {
  process(records: InboundRecord[]): StageOutput;
  /** Processing-time tick (idle partitions, timers). Return undefined when nothing is due. */
  onTimer?(): StageOutput | undefined;
  takeStateChanges(): StateChanges;
  /** Gauges and the like; called after each commit. */
  describe?(): Record<string, number>;
}

export interface PostgresStatefulStageOptions {
  groupId: string;
  dlqTopic: string;
  db: Database;
  outbox: TransactionalOutbox;
  logger: Logger;
  metrics: StageMetrics;
  clock: Clock;
  createProcessor(partition: number, topic: string, state: Array<[string, unknown]>): PartitionProcessor;
  /**
   * Runs one batch through the partition's processor; default `processor.process(records)`. The Nest transport
   * routes it through the stage's `@EventPattern` handler (which gets the processor as its context's state).
   */
  process?(processor: PartitionProcessor, records: InboundRecord[], partition: PartitionInfo): StageOutput | Promise<StageOutput>;
  onRestored?(partition: number, topic: string, entries: number, durationMs: number): void;
  /** The input partition's log start offset (see "Offset gaps" above). */
  logStartOffset(topic: string, partition: number): Promise<string>;
}

interface PartitionTask {
  topic: string;
  partition: number;
  processor: PartitionProcessor;
  /** The offset the in-memory state corresponds to (next record to apply); '-1' = nothing applied yet. */
  nextOffset: string;
  /** Outbox rows may wait for publication (after a restore, or a failed publish). */
  publishPending: boolean;
  /** Ownership epoch taken at restore; any later restore (by any instance) invalidates this copy. */
  epoch: string;
  /** Set when the stored offset lies below the log start: the partition is stopped (see "Offset gaps"). */
  gap?: { nextOffset: string; logStart: string };
}

class StaleStateError extends OwnershipLostError {}

export class PostgresStatefulStage {
  private readonly tasks = new Map<string, Promise<PartitionTask>>();
  /** Serialises batches and timer ticks of one partition. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly attempts = new Map<string, number>();
  /** Partitions whose failure isolation found to follow the state (STATE_WRITE_FAILED), until a batch commits. */
  private readonly stateFailures = new Set<string>();
  /** Per partition: error codes of records dead-lettered by isolation since its last batch that committed whole. */
  private readonly isolatedCodes = new Map<string, Set<string>>();
  /** Partitions assigned to this instance (from rebalances and batches). */
  private readonly owned = new Map<string, { topic: string; partition: number }>();
  /** Per partition: the running publisher, the task it publishes for, and whether more was committed meanwhile. */
  private readonly publishing = new Map<string, { running: Promise<void>; task: PartitionTask; again: boolean }>();
  private consumer?: BatchConsumer;

  /** Partitions whose batch keeps failing (see BlockedPartitions). */
  readonly blocked: BlockedPartitions;

  constructor(private readonly options: PostgresStatefulStageOptions) {
    this.blocked = new BlockedPartitions(options.metrics.blocked, options.clock);
  }

  attach(consumer: BatchConsumer): void {
    this.consumer = consumer;
  }

  readonly handle = (batch: PartitionBatch, control: BatchControl): Promise<void> =>
    this.serialised(taskKey(batch.topic, batch.partition), () => this.handleBatch(batch, control));

  readonly onAssignment = (assigned: Assignment[], revoked: Assignment[]): void => {
    // Restore newly assigned partitions at once, not at their first record: a quiet partition must still
    // fire its windows (idle watermark) and apply rule changes.
    for (const { topic, partition } of assigned.flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition })))) {
      this.owned.set(taskKey(topic, partition), { topic, partition });
      this.blocked.cleared(topic, partition);
      void this.serialised(taskKey(topic, partition), () => this.task(topic, partition).then(() => undefined, () => undefined));
    }
    // Drop state of revoked partitions: the new owner restores it from Postgres.
    for (const { topic, partition } of revoked.flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition })))) {
      const key = taskKey(topic, partition);
      this.owned.delete(key);
      this.stateFailures.delete(key);
      this.isolatedCodes.delete(key);
      this.blocked.cleared(topic, partition);
      void this.serialised(key, async () => {
        this.tasks.delete(key);
        await this.publishing.get(key)?.running;
        await this.options.outbox.release(topic, partition);
      });
    }
  };

  private ticking = false;

  /**
   * Runs processing-time timers of every owned partition (idle watermarks…). Call periodically; a call while
   * the previous one runs, or while this instance is not a group member, does nothing.
   */
  async tick(): Promise<void> {
    if (this.ticking || (this.consumer && !this.consumer.isReady())) return;
    this.ticking = true;
    try {
      await this.tickOwned();
    } catch (error) {
      this.options.logger.warn('timer tick failed', { error: (error as Error).message });
    } finally {
      this.ticking = false;
    }
  }

  private async tickOwned(): Promise<void> {
    // Every partition this instance owns, loaded or not: a partition whose state was dropped after a failed
    // commit is restored here, or a quiet partition would never fire its windows again.
    await Promise.all([...this.owned.values()].map(({ topic, partition }) => this.serialised(taskKey(topic, partition), async () => {
      const key = taskKey(topic, partition);
      if (!this.owned.has(key)) return; // revoked meanwhile: do not take the partition back
      const task = await this.task(topic, partition).catch(() => undefined);
      if (!task || task.gap) return; // a stopped partition fires nothing either
      const output = task.processor.onTimer?.();
      if (output) {
        try {
          await this.commit(task, output, [], undefined);
        } catch (error) {
          this.tasks.delete(key);
          this.options.logger.warn('timer commit failed; partition state will be reloaded', { topic: task.topic, partition: task.partition, error: (error as Error).message });
          return;
        }
      }
      if (task.publishPending) this.requestPublish(task);
    })));
  }

  /** Waits for the outputs committed so far to be published (or their publication to fail). For shutdown. */
  async flush(): Promise<void> {
    await Promise.all([...this.publishing.values()].map((p) => p.running));
  }

  private async handleBatch(batch: PartitionBatch, control: BatchControl): Promise<void> {
    const { options } = this;
    const key = taskKey(batch.topic, batch.partition);
    const started = options.clock.now();
    this.owned.set(key, { topic: batch.topic, partition: batch.partition });
    try {
      const task = await this.task(batch.topic, batch.partition);
      if (task.gap) return this.holdGap(task, batch, control);
      // Skip what this partition's state already contains (redelivery after a crash or rebalance).
      const fresh = task.nextOffset === '-1' ? batch.records : batch.records.filter((r) => BigInt(r.offset) >= BigInt(task.nextOffset));
      if (fresh.length === 0) return this.hintKafkaOffset(batch);
      if (!control.isActive()) return;
      try {
        // The batch's next offset, past the transaction marker that follows its records (lag 0 once caught up).
        await this.commit(task, await this.run(task, fresh), fresh, batch.nextOffset);
        this.isolatedCodes.delete(key);
      } catch (error) {
        // Isolation already found the failure to follow the state: plain retries (blocked) until a batch commits.
        if (!isPoisonSuspect(error) || !control.isActive() || this.stateFailures.has(key)) throw error;
        options.logger.warn('batch failed with an error retrying cannot clear; isolating the record that causes it', {
          topic: batch.topic, partition: batch.partition, fromOffset: fresh[0].offset, records: fresh.length, code: errorCode(error), error: (error as Error).message,
        });
        this.tasks.delete(key);
        const codes = this.isolatedCodes.get(key) ?? new Set<string>();
        this.isolatedCodes.set(key, codes);
        try {
          await this.isolate(batch.topic, batch.partition, fresh, batch.nextOffset, control, codes);
        } catch (isolation) {
          if ((isolation as { code?: unknown }).code === STATE_WRITE_FAILED) this.stateFailures.add(key);
          throw isolation;
        }
      }
      this.stateFailures.delete(key);
      this.attempts.delete(key);
      this.blocked.cleared(batch.topic, batch.partition);
      options.metrics.processed.inc({ topic: batch.topic }, fresh.length);
      options.metrics.batchSize.observe({ topic: batch.topic }, fresh.length);
      options.metrics.batchDuration.observe({ topic: batch.topic }, (options.clock.now() - started) / 1000);
      this.requestPublish(await this.task(batch.topic, batch.partition)); // after an isolation, the task it restored
      await this.hintKafkaOffset(batch);
    } catch (error) {
      // Whatever happened, the in-memory state may be ahead of Postgres: throw it away and reload.
      this.tasks.delete(key);
      await this.publishing.get(key)?.running;
      await options.outbox.release(batch.topic, batch.partition);
      const stale = error instanceof StaleStateError;
      const attempt = stale ? 0 : (this.attempts.get(key) ?? 0) + 1;
      this.attempts.set(key, attempt);
      const code = String((error as { code?: unknown }).code ?? (error as Error).name);
      options.metrics.retries.inc({ topic: batch.topic, code });
      const delay = stale ? 0 : jitteredBackoffMs(attempt - 1);
      if (!stale) this.blocked.failed(batch.topic, batch.partition);
      options.logger.warn(stale ? 'partition state was stale (another instance moved on); reloading' : 'batch failed; rolled back, will retry', {
        topic: batch.topic, partition: batch.partition, fromOffset: batch.records[0].offset, attempt, delayMs: delay,
        retriable: isRetriable(error), code, error: (error as Error).message,
      });
      control.retryFrom(batch.records[0].offset, delay);
    }
  }

  /** Runs records through the partition's processor (through the stage's handler when there is one). */
  private async run(task: PartitionTask, records: InboundRecord[]): Promise<StageOutput> {
    const { options } = this;
    return options.process
      ? await options.process(task.processor, records, { topic: task.topic, partition: task.partition, firstOffset: records[0].offset, records: records.length, state: task.processor })
      : task.processor.process(records);
  }

  /**
   * Poison isolation by bisection: `records` failed together with an error that retrying cannot clear. Each
   * half is run again from the state restored from Postgres and committed on its own; a half that fails the
   * same way is split again, down to the one record that fails alone (its second failure: the first was with
   * its batch). That record is dead-lettered with the error's code and cause (a SQLSTATE, a Kafka error) in a
   * transaction that changes no state and moves the offset past it, and the partition goes on. A retriable
   * error or lost ownership met on the way ends the isolation: the caller retries from the first record not
   * committed (committed halves are skipped by offset). `endOffset`: the offset after the last record.
   *
   * A failure can follow the state rather than a record (a window whose result row cannot be stored fails
   * whichever record closes it). Then every record would fail alone in turn, and dead-lettering them all would
   * lose innocent records. So a second record failing alone with an error code already dead-lettered since the
   * partition's last batch that committed whole (`deadLettered`, kept across batches: a batch may hold one
   * record) ends the isolation as a retriable STATE_WRITE_FAILED: the partition is retried with back-off and
   * shows as blocked (gauge, alert) instead.
   */
  private async isolate(topic: string, partition: number, records: InboundRecord[], endOffset: string, control: BatchControl, deadLettered: Set<string>): Promise<void> {
    const task = await this.task(topic, partition);
    if (task.gap) throw new Error('the partition has an offset gap');
    const pending = task.nextOffset === '-1' ? records : records.filter((r) => BigInt(r.offset) >= BigInt(task.nextOffset));
    if (pending.length === 0 || !control.isActive()) return;
    try {
      await this.commit(task, await this.run(task, pending), pending, endOffset);
      return;
    } catch (error) {
      this.tasks.delete(taskKey(topic, partition));
      if (!isPoisonSuspect(error)) throw error;
      if (pending.length === 1) {
        const code = errorCode(error);
        if (deadLettered.has(code)) {
          throw new ProcessingError(STATE_WRITE_FAILED, `records fail one by one with the same error (${code}: ${(error as Error).message}): the failure follows the partition's state, not a record`, true);
        }
        deadLettered.add(code);
        return this.deadLetter(topic, partition, pending[0], error as Error, endOffset);
      }
    }
    const middle = Math.ceil(pending.length / 2);
    await this.isolate(topic, partition, pending.slice(0, middle), pending[middle].offset, control, deadLettered);
    await this.isolate(topic, partition, pending.slice(middle), endOffset, control, deadLettered);
  }

  /** Commits only the DLQ record of `record` (from freshly restored state: nothing else changes) and moves past it. */
  private async deadLetter(topic: string, partition: number, record: InboundRecord, error: Error, endOffset: string): Promise<void> {
    const task = await this.task(topic, partition);
    await this.commit(task, { outbox: [], rejected: [{ offset: record.offset, error: isolatedPoisonError(error) }] }, [record], endOffset);
  }

  private async commit(task: PartitionTask, output: StageOutput, records: InboundRecord[], newNextOffset: string | undefined): Promise<void> {
    const { options } = this;
    const changes = task.processor.takeStateChanges();
    const dlq: OutboundRecord[] = [];
    if (output.rejected?.length) {
      const byOffset = new Map(records.map((r) => [r.offset, r]));
      for (const { offset, error } of output.rejected) {
        const record = byOffset.get(offset);
        if (!record) continue;
        const code = String((error as { code?: unknown }).code ?? error.name);
        options.metrics.dlq.inc({ topic: record.topic, code });
        options.logger.warn('record sent to DLQ', { topic: record.topic, partition: record.partition, offset: record.offset, code, error: error.message });
        dlq.push(toDlqRecord(options.dlqTopic, record, options.groupId, error, options.clock.now()));
      }
    }
    await options.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ next_offset: string; outbox_seq: string; epoch: string }>(
        'SELECT next_offset, outbox_seq, epoch FROM consumer_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3 FOR UPDATE',
        [options.groupId, task.topic, task.partition],
      );
      const stored = rows[0];
      if (!stored || String(stored.epoch) !== task.epoch || String(stored.next_offset) !== task.nextOffset) {
        throw new StaleStateError(`partition taken over: epoch ${stored?.epoch} offset ${stored?.next_offset} in Postgres, ${task.epoch} / ${task.nextOffset} in memory`);
      }
      if (changes.upserts.length > 0) {
        // One JSON document of [key, value] pairs rather than a text[] and a jsonb[]: serialised once, natively,
        // instead of element by element and then escaped again into an array literal (when a minute's windows
        // close together that literal is tens of MB).
        await tx.query(
          `INSERT INTO operator_state (group_id, partition, state_key, value)
           SELECT $1, $2, e->>0, e->1 FROM jsonb_array_elements($3::jsonb) AS e
           ON CONFLICT (group_id, partition, state_key) DO UPDATE SET value = excluded.value`,
          [options.groupId, task.partition, JSON.stringify(changes.upserts)],
        );
      }
      if (changes.deletes.length > 0) {
        await tx.query('DELETE FROM operator_state WHERE group_id = $1 AND partition = $2 AND state_key = ANY($3::text[])', [options.groupId, task.partition, changes.deletes]);
      }
      const written = output.write ? await output.write(tx) : undefined;
      await options.outbox.enqueue(tx, task.topic, task.partition, Number(rows[0].outbox_seq), [...output.outbox, ...(written ?? []), ...dlq]);
      if (newNextOffset !== undefined) {
        await tx.query('UPDATE consumer_offsets SET next_offset = $4, updated_at = now() WHERE group_id = $1 AND topic = $2 AND partition = $3', [options.groupId, task.topic, task.partition, newNextOffset]);
      }
    });
    if (newNextOffset !== undefined) task.nextOffset = newNextOffset;
    task.publishPending = true;
    const now = options.clock.now();
    for (const t of output.receivedAt ?? []) options.metrics.endToEndLatency.observe({}, (now - t) / 1000);
  }

  /**
   * Starts publishing the partition's committed outputs, or — when its publisher is busy — asks it to go once
   * more when done: at most one publication per partition at a time, each taking every row committed before it
   * started. It stops when the partition was revoked or its task dropped (a failed batch releases the outbox
   * only after the running publication ended), so no publisher is ever made for a partition we gave away.
   */
  private requestPublish(task: PartitionTask): void {
    const key = taskKey(task.topic, task.partition);
    const current = this.publishing.get(key);
    if (current) {
      current.task = task;
      current.again = true;
      return;
    }
    const entry = { running: Promise.resolve(), task, again: true };
    entry.running = (async () => {
      try {
        while (entry.again) {
          entry.again = false;
          const live = this.owned.has(key) ? await this.tasks.get(key)?.catch(() => undefined) : undefined;
          if (live !== entry.task) return;
          await this.publish(entry.task);
        }
      } finally {
        // In the same synchronous step as the last `again` check: a request can never land on a finished entry.
        this.publishing.delete(key);
      }
    })();
    this.publishing.set(key, entry);
  }

  /**
   * Publishes the partition's committed outputs. A Kafka failure here does not undo the batch (it is
   * committed in Postgres); the rows wait and the next batch or tick publishes them.
   */
  private async publish(task: PartitionTask): Promise<void> {
    try {
      await this.options.outbox.publish(task.topic, task.partition);
      task.publishPending = false;
    } catch (error) {
      task.publishPending = true;
      this.options.logger.warn('publishing committed outputs failed; will retry', { topic: task.topic, partition: task.partition, error: (error as Error).message });
    }
  }

  private task(topic: string, partition: number): Promise<PartitionTask> {
    const key = taskKey(topic, partition);
    let task = this.tasks.get(key);
    if (!task) {
      task = this.restore(topic, partition);
      task.catch(() => this.tasks.delete(key));
      this.tasks.set(key, task);
    }
    return task;
  }

  /**
   * Cold restore, in one transaction: create the offset row if missing, lock it, take a new ownership epoch,
   * and read the offset and every state entry as one consistent snapshot.
   */
  private async restore(topic: string, partition: number): Promise<PartitionTask> {
    const { options } = this;
    const started = options.clock.now();
    const { nextOffset: next, epoch, state } = await options.db.transaction(async (tx) => {
      await tx.query(
        'INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, -1) ON CONFLICT DO NOTHING',
        [options.groupId, topic, partition],
      );
      const { rows } = await tx.query<{ next_offset: string; epoch: string }>(
        'UPDATE consumer_offsets SET epoch = epoch + 1 WHERE group_id = $1 AND topic = $2 AND partition = $3 RETURNING next_offset, epoch',
        [options.groupId, topic, partition],
      );
      const stateRows = await tx.query<{ state_key: string; value: unknown }>(
        'SELECT state_key, value FROM operator_state WHERE group_id = $1 AND partition = $2', [options.groupId, partition],
      );
      return {
        nextOffset: String(rows[0].next_offset), epoch: String(rows[0].epoch),
        state: stateRows.rows.map((r): [string, unknown] => [r.state_key, r.value]),
      };
    });
    const gap = next === '-1' ? undefined : await this.offsetGap(topic, partition, next);
    const processor = options.createProcessor(partition, topic, state);
    const durationMs = options.clock.now() - started;
    options.onRestored?.(partition, topic, state.length, durationMs);
    options.logger.info('partition state restored', { topic, partition, entries: state.length, nextOffset: next, epoch, durationMs });
    return { topic, partition, processor, nextOffset: next, publishPending: true, epoch, gap };
  }

  /** The gap between the stored next offset and the log start, if records were deleted before we processed them. */
  private async offsetGap(topic: string, partition: number, nextOffset: string): Promise<PartitionTask['gap']> {
    const logStart = await this.options.logStartOffset(topic, partition);
    const missing = BigInt(logStart) - BigInt(nextOffset);
    this.options.metrics.offsetGap.set({ topic, partition: String(partition) }, missing > 0n ? Number(missing) : 0);
    if (missing <= 0n) return undefined;
    this.options.logger.error('input records were deleted by retention before this stage processed them; the partition is stopped', {
      topic, partition, nextOffset, logStartOffset: logStart, missingRecords: missing.toString(),
      toAccept: `npm run admin -- accept-offset-gap --group ${this.options.groupId} --topic ${topic} --partition ${partition}`,
    });
    return { nextOffset, logStart };
  }

  /**
   * A stopped partition: nothing is processed. The batch is held and delivered again in 30 s; the state is
   * dropped so that delivery restores it afresh, which finds the gap gone once an operator accepted it.
   */
  private holdGap(task: PartitionTask, batch: PartitionBatch, control: BatchControl): void {
    this.tasks.delete(taskKey(task.topic, task.partition));
    control.retryFrom(batch.records[0].offset, GAP_RECHECK_MS);
  }

  private async hintKafkaOffset(batch: PartitionBatch): Promise<void> {
    await this.consumer?.commit([{ topic: batch.topic, partition: batch.partition, offset: batch.nextOffset }]).catch((error) => {
      this.options.logger.debug('kafka offset hint not committed (harmless: Postgres holds the real offset)', { error: (error as Error).message });
    });
  }

  private serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.locks.set(key, settled);
    void settled.then(() => { if (this.locks.get(key) === settled) this.locks.delete(key); });
    return next;
  }
}

/** Isolation's verdict when records fail one by one with the same error: the partition's state is at fault. */
const STATE_WRITE_FAILED = 'STATE_WRITE_FAILED';

/** How often a partition stopped by an offset gap looks again whether the gap was accepted. */
const GAP_RECHECK_MS = 30_000;

function taskKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}
