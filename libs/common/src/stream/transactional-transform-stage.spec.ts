/**
 * The transform stage's error policy on in-memory ports: a batch whose transaction keeps failing is retried
 * with jittered back-off, its partition shows as blocked (gauge and longestMs, which readiness reads), and the
 * block clears once a batch commits.
 */
import { ManualClock } from '@streamguard/stream-core';
import { JsonLogger } from '../logging/logger';
import { PrometheusMetrics } from '../metrics/prometheus-metrics';
import type { BatchControl, KafkaPort, OutboundRecord, PartitionBatch, TransactionalProducer } from '../kafka/kafka.port';
import { StageMetrics } from './stage-metrics';
import { TransactionalTransformStage } from './transactional-transform-stage';

/** A Kafka whose transactions fail while `failing` is true; committed sends are kept. */
function inMemoryKafka(state: { failing: boolean; committed: OutboundRecord[][] }): KafkaPort {
  const producer: TransactionalProducer = {
    sendAtomically: async (records) => {
      if (state.failing) throw Object.assign(new Error('Broker: Coordinator not available'), { name: 'LibrdKafkaError', retriable: true });
      state.committed.push(records);
    },
    disconnect: async () => undefined,
  };
  return {
    transactionalProducer: async () => producer,
    admin: async () => ({ committedOffset: async () => null, disconnect: async () => undefined }),
  } as unknown as KafkaPort;
}

const batch: PartitionBatch = {
  topic: 'events.raw', partition: 2, nextOffset: '11',
  records: [{ topic: 'events.raw', partition: 2, offset: '10', key: 'a', value: Buffer.from('{}'), headers: {}, timestamp: 0 }],
};

describe('TransactionalTransformStage error policy', () => {
  it('retries a failing batch with jittered back-off, reports the partition blocked, and clears it once a batch commits', async () => {
    const kafka = { failing: true, committed: [] as OutboundRecord[][] };
    const clock = new ManualClock(1_000_000);
    const metrics = new PrometheusMetrics('test');
    const stage = new TransactionalTransformStage<string>({
      groupId: 'g', dlqTopic: 'events.dlq', kafka: inMemoryKafka(kafka), logger: new JsonLogger('error', { service: 'test' }),
      metrics: new StageMetrics(metrics, 'enrich'), clock,
      decode: (record) => ({ ...record, value: 'decoded' }),
      transform: async () => ({ outputs: [{ topic: 'events.enriched', key: 'a', value: 'x' }], rejected: [] }),
    });
    const retries: Array<{ offset: string; delayMs: number }> = [];
    const control: BatchControl = { heartbeat: async () => undefined, isActive: () => true, retryFrom: (offset, delayMs) => retries.push({ offset, delayMs }) };
    const blockedGauge = async () => Number(/enrich_partition_blocked_seconds\{[^}]*partition="2"[^}]*\} (\S+)/.exec(await metrics.render())?.[1] ?? NaN);

    for (let attempt = 0; attempt < 4; attempt += 1) {
      await stage.handle(batch, control);
      clock.advance(5_000);
    }
    // Attempt n waits between half and all of 200·2ⁿ ms, from the batch's first offset.
    expect(retries.map((r) => r.offset)).toEqual(['10', '10', '10', '10']);
    retries.forEach(({ delayMs }, n) => {
      expect(delayMs).toBeGreaterThanOrEqual(100 * 2 ** n);
      expect(delayMs).toBeLessThanOrEqual(200 * 2 ** n);
    });
    expect(stage.blocked.longestMs()).toBe(20_000);
    expect(await blockedGauge()).toBe(15); // set at the last failure, 15 s after the first

    kafka.failing = false;
    await stage.handle(batch, control);
    expect(kafka.committed).toHaveLength(1);
    expect(stage.blocked.longestMs()).toBe(0);
    expect(await blockedGauge()).toBe(0);
  });
});
