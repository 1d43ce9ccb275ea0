/**
 * A Postgres stage whose stored offset lies below the input's log start (records deleted by retention before
 * it processed them) stops that partition loudly instead of going on from the log start, until an operator
 * accepts the gap. Real broker (records deleted with the broker's own tool) and Postgres.
 */
import {
  acceptOffsetGap, InboundRecord, PartitionProcessor, PrometheusMetrics, StatefulStageRunner, systemClock, TOPIC_CONFIG,
} from '@streamguard/common';
import { deleteRecordsWithBrokerTool } from './support/broker-tools';
import { quietLogger, suiteDatabase, testKafka, uniqueName } from './support/test-infra';
import { waitFor } from './support/wait-for';

/** Remembers every offset it processed; no state, no outputs. */
function recordingProcessor(seen: string[]): PartitionProcessor {
  return {
    process: (records: InboundRecord[]) => {
      seen.push(...records.map((r) => r.offset));
      return { outbox: [] };
    },
    takeStateChanges: () => ({ upserts: [], deletes: [] }),
  };
}

describe('offset gaps', () => {
  const kafka = testKafka();
  const db = suiteDatabase();

  it('stops a partition whose next offset was deleted, reports how many records are gone, and goes on once the gap is accepted', async () => {
    const [input, dlq, markers] = [uniqueName('gap-input'), uniqueName('gap-dlq'), uniqueName('gap-markers')];
    const groupId = uniqueName('gap-stage');
    const admin = await kafka.admin();
    await admin.ensureTopics([
      { topic: input, partitions: 1, replicationFactor: 1 }, { topic: dlq, partitions: 1, replicationFactor: 1 },
      { topic: markers, partitions: 1, replicationFactor: 1, config: TOPIC_CONFIG.outboxMarkers },
    ]);
    const producer = await kafka.producer();
    const write = (from: number, n: number) => producer.send(Array.from({ length: n }, (_, i) => ({ topic: input, key: null, value: `r${from + i}`, partition: 0 })));
    const seen: string[] = [];
    const metrics = new PrometheusMetrics('gaptest');
    const runner = () => new StatefulStageRunner({
      service: 'gaptest', groupId, inputTopic: input, dlqTopic: dlq, markerTopic: markers, kafka, db, logger: quietLogger, metrics,
      clock: systemClock, partitionConcurrency: 1, blockedNotReadyMs: 300_000, tickMs: 1_000, createProcessor: () => recordingProcessor(seen),
    });
    const gapGauge = async () => Number(/gaptest_partition_offset_gap_records\{[^}]*\} (\d+)/.exec(await metrics.render())?.[1] ?? NaN);
    try {
      await write(0, 10);
      const first = runner();
      first.start();
      await waitFor('offsets 0–9 processed', () => seen.length === 10, 60_000);
      await first.stop();

      // While the stage is down, offsets 10–19 arrive and retention deletes everything before 15.
      await write(10, 10);
      await deleteRecordsWithBrokerTool(input, 0, 15);
      const second = runner();
      second.start();
      try {
        await waitFor('the gap reported: 5 records gone', async () => (await gapGauge()) === 5 || undefined, 60_000);
        // Stopped, not skipped: the restore that found the gap was followed by deliveries that processed nothing.
        await waitFor('a delivery held', async () => (await db.query('SELECT 1 FROM consumer_offsets WHERE group_id = $1 AND epoch >= 3', [groupId])).rows.length > 0 || undefined, 60_000);
        expect(seen).toHaveLength(10);

        expect(await acceptOffsetGap(db, admin, groupId, input, 0)).toEqual({ from: '10', to: '15' });
        await waitFor('offsets 15–19 processed after the gap was accepted', () => seen.length === 15, 90_000);
        expect(seen.slice(10)).toEqual(['15', '16', '17', '18', '19']);
        expect(await gapGauge()).toBe(0);
        expect(await acceptOffsetGap(db, admin, groupId, input, 0)).toBeNull();
      } finally {
        await second.stop();
      }
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  }, 180_000);
});
