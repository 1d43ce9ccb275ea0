/**
 * The error policy's poison case on a Postgres stage, with the real broker and Postgres: a record whose
 * Postgres write fails deterministically (SQLSTATE 22012, a real division by zero in the stage's transaction)
 * and a record whose handler throws are each isolated by bisection — from state restored from Postgres, so
 * nothing is counted twice — dead-lettered with their error code and cause, and the partition goes on. Before
 * the policy, the batch holding either record was rolled back and retried forever.
 */
import {
  DLQ_HEADERS, InboundRecord, PartitionProcessor, PrometheusMetrics, StatefulStageRunner, systemClock, TOPIC_CONFIG,
} from '@streamguard/common';
import { collectTopic, quietLogger, suiteDatabase, testKafka, uniqueName } from './support/test-infra';
import { waitFor } from './support/wait-for';

/**
 * Counts the records it applied (its only state), forwards each value to `output`, and in its Postgres write
 * divides by zero for a value `poison-write`; throws in the handler itself for a value `poison-handler`.
 */
function countingProcessor(state: Array<[string, unknown]>, output: string, failFromCount = Infinity): PartitionProcessor {
  let count = Number(new Map(state).get('count') ?? 0);
  let changed = false;
  return {
    process: (records: InboundRecord[]) => {
      const values = records.map((r) => r.value!.toString());
      if (values.includes('poison-handler')) throw new TypeError('cannot read properties of undefined (reading \'amount\')');
      count += records.length;
      changed = true;
      return {
        outbox: values.map((value) => ({ topic: output, key: null, value })),
        write: async (tx) => {
          // A record's fault, or (past failFromCount) the state's: then whichever record comes next fails.
          if (values.includes('poison-write') || count >= failFromCount) await tx.query('SELECT 1 / 0');
        },
      };
    },
    takeStateChanges: () => {
      const upserts: Array<[string, unknown]> = changed ? [['count', count]] : [];
      changed = false;
      return { upserts, deletes: [] };
    },
  };
}

describe('poison isolation in a Postgres stage', () => {
  const kafka = testKafka();
  const db = suiteDatabase();

  it('dead-letters the record whose write or handler fails deterministically, with its SQLSTATE, and commits every other record exactly once', async () => {
    const [input, output, dlq, markers] = [uniqueName('poison-in'), uniqueName('poison-out'), uniqueName('poison-dlq'), uniqueName('poison-markers')];
    const groupId = uniqueName('poison-stage');
    const admin = await kafka.admin();
    await admin.ensureTopics([
      { topic: input, partitions: 1, replicationFactor: 1 }, { topic: output, partitions: 1, replicationFactor: 1 },
      { topic: dlq, partitions: 1, replicationFactor: 1 }, { topic: markers, partitions: 1, replicationFactor: 1, config: TOPIC_CONFIG.outboxMarkers },
    ]);
    const values = Array.from({ length: 40 }, (_, i) => (i === 13 ? 'poison-write' : i === 29 ? 'poison-handler' : `v${i}`));
    const producer = await kafka.producer();
    // One send: the stage gets them as one batch (or a few), so each poison record starts inside a batch of good ones.
    await producer.send(values.map((value) => ({ topic: input, key: null, value, partition: 0 })));
    const [outputs, deadLetters] = await Promise.all([collectTopic(kafka, output), collectTopic(kafka, dlq)]);
    const runner = new StatefulStageRunner({
      service: 'poisontest', groupId, inputTopic: input, dlqTopic: dlq, markerTopic: markers, kafka, db, logger: quietLogger,
      metrics: new PrometheusMetrics('poisontest'), clock: systemClock, partitionConcurrency: 1, blockedNotReadyMs: 300_000, tickMs: 1_000,
      createProcessor: (_partition, _topic, state) => countingProcessor(state, output),
    });
    runner.start();
    try {
      await waitFor('every input record committed', async () =>
        (await db.query<{ next_offset: string }>('SELECT next_offset FROM consumer_offsets WHERE group_id = $1', [groupId])).rows[0]?.next_offset === '40' || undefined, 90_000, 200);
      await waitFor('38 outputs and 2 dead letters', () => (outputs.records.length >= 38 && deadLetters.records.length >= 2) || undefined, 30_000);

      expect(outputs.records.map((r) => r.value!.toString()).sort()).toEqual(values.filter((v) => !v.startsWith('poison')).sort());
      const dead = deadLetters.records.map((r) => ({
        value: r.value!.toString(), offset: r.headers[DLQ_HEADERS.originOffset], code: r.headers[DLQ_HEADERS.errorCode], message: r.headers[DLQ_HEADERS.errorMessage],
      }));
      expect(dead).toEqual([
        { value: 'poison-write', offset: '13', code: '22012', message: expect.stringContaining('postgres SQLSTATE 22012') },
        { value: 'poison-handler', offset: '29', code: 'TypeError', message: expect.stringContaining('reading \'amount\'') },
      ]);
      // The state counts each good record once, though the batches holding the poison ran several times.
      const { rows } = await db.query<{ value: unknown }>('SELECT value FROM operator_state WHERE group_id = $1 AND state_key = $2', [groupId, 'count']);
      expect(rows.map((r) => Number(r.value))).toEqual([38]);
    } finally {
      await runner.stop();
      await Promise.all([outputs.stop(), deadLetters.stop(), producer.disconnect(), admin.disconnect()]);
    }
  }, 150_000);

  it('does not dead-letter record after record when the failure follows the state: it stops isolating and reports the partition blocked', async () => {
    const [input, output, dlq, markers] = [uniqueName('state-in'), uniqueName('state-out'), uniqueName('state-dlq'), uniqueName('state-markers')];
    const groupId = uniqueName('state-stage');
    const admin = await kafka.admin();
    await admin.ensureTopics([
      { topic: input, partitions: 1, replicationFactor: 1 }, { topic: output, partitions: 1, replicationFactor: 1 },
      { topic: dlq, partitions: 1, replicationFactor: 1 }, { topic: markers, partitions: 1, replicationFactor: 1, config: TOPIC_CONFIG.outboxMarkers },
    ]);
    const producer = await kafka.producer();
    await producer.send(Array.from({ length: 10 }, (_, i) => ({ topic: input, key: null, value: `first-${i}`, partition: 0 })));
    const deadLetters = await collectTopic(kafka, dlq);
    const metrics = new PrometheusMetrics('statetest');
    const runner = new StatefulStageRunner({
      service: 'statetest', groupId, inputTopic: input, dlqTopic: dlq, markerTopic: markers, kafka, db, logger: quietLogger,
      metrics, clock: systemClock, partitionConcurrency: 1, blockedNotReadyMs: 300_000, tickMs: 1_000,
      // Once 10 records are counted, every write fails: no record is at fault, the state is.
      createProcessor: (_partition, _topic, state) => countingProcessor(state, output, 10),
    });
    const committed = async () => (await db.query<{ next_offset: string }>('SELECT next_offset FROM consumer_offsets WHERE group_id = $1', [groupId])).rows[0]?.next_offset;
    const retries = async () => [...(await metrics.render()).matchAll(/statetest_batch_retries_total\{[^}]*\} (\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
    runner.start();
    try {
      await waitFor('the first 10 records committed', async () => (await committed()) === '10' || undefined, 90_000, 200);
      await producer.send(Array.from({ length: 10 }, (_, i) => ({ topic: input, key: null, value: `then-${i}`, partition: 0 })));
      await waitFor('the partition retried three times', async () => (await retries()) >= 3 || undefined, 90_000, 200);
      expect(Number(await committed())).toBeLessThanOrEqual(11);
      // At most the first record that failed alone went to the DLQ, before the failure was seen to follow the state.
      expect(deadLetters.records.length).toBeLessThanOrEqual(1);
      // Blocked since the first retry: the gauge is the time since (it was 0 at that first failure).
      const blocked = Number(/statetest_partition_blocked_seconds\{[^}]*\} (\S+)/.exec(await metrics.render())?.[1]);
      expect(blocked).toBeGreaterThan(0);
    } finally {
      await runner.stop();
      await Promise.all([deadLetters.stop(), producer.disconnect(), admin.disconnect()]);
    }
  }, 150_000);
});
