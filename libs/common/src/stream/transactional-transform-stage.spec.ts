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
import { PROGRESS_MARKER_HEADER } from '../contracts/progress-marker-record';

/** A Kafka whose transactions fail while `failing` is true; committed sends are kept. */
function inMemoryKafka(state: { failing: boolean; committed: OutboundRecord[][]; logStart?: string }): KafkaPort {
  const producer: TransactionalProducer = {
    sendAtomically: async (records) => {
      if (state.failing) throw Object.assign(new Error('Broker: Coordinator not available'), { name: 'LibrdKafkaError', retriable: true });
      state.committed.push(records);
    },
    disconnect: async () => undefined,
  };
  const partitions: Record<string, number> = { 'events.raw': 4, 'events.enriched': 3 };
  return {
    transactionalProducer: async () => producer,
    admin: async () => ({
      committedOffset: async () => null, partitionCount: async (topic: string) => partitions[topic], logStartOffset: async () => state.logStart ?? '0',
      disconnect: async () => undefined,
    }),
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

describe('TransactionalTransformStage progress markers', () => {
  const marker = (offset: number, value: object | string) => ({
    topic: 'events.raw', partition: 2, offset: String(offset), key: null, timestamp: 0,
    value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), headers: { [PROGRESS_MARKER_HEADER]: '1' },
  });
  const event = (offset: number) => ({ topic: 'events.raw', partition: 2, offset: String(offset), key: 'a', value: Buffer.from('{}'), headers: {}, timestamp: 0 });

  /** `logStart`: the input partition's log start (the tests' batches start at offset 0, so '0' = read from the log start). */
  function setup(logStart = '-1') {
    const kafka = { failing: false, committed: [] as OutboundRecord[][], logStart };
    const transformed: string[][] = [];
    const stage = new TransactionalTransformStage<string>({
      groupId: 'g', dlqTopic: 'events.dlq', kafka: inMemoryKafka(kafka), logger: new JsonLogger('error', { service: 'test' }),
      metrics: new StageMetrics(new PrometheusMetrics('test'), 'enrich'), clock: new ManualClock(0),
      decode: (record) => ({ ...record, value: record.offset }),
      transform: async (records) => {
        transformed.push(records.map((r) => r.offset));
        return { outputs: records.map((r) => ({ topic: 'events.enriched', key: 'a', value: `out-${r.offset}` })), rejected: [] };
      },
      progress: { outputTopic: 'events.enriched', sourceTimeoutMs: 1_000 },
    });
    const control: BatchControl = { heartbeat: async () => undefined, isActive: () => true, retryFrom: () => undefined };
    const run = (records: PartitionBatch['records']) => stage.handle({ topic: 'events.raw', partition: 2, nextOffset: String(Number(records.at(-1)!.offset) + 1), records }, control);
    const sent = () => kafka.committed.at(-1)!.map((r) => ({ topic: r.topic, partition: r.partition, value: String(r.value), progress: r.headers?.[PROGRESS_MARKER_HEADER] }));
    return { run, sent, transformed, kafka };
  }

  it('forwards the partition\'s progress behind the batch\'s outputs to every output partition, once the ingest sources are known', async () => {
    const { run, sent, transformed } = setup();
    await run([marker(0, { source: 'ingest-a', time: 10_000 }), event(1), marker(2, { source: 'ingest-b', time: 10_400 })]);
    expect(transformed).toEqual([['1']]); // markers are not transformed
    expect(sent().map((r) => r.value)).toEqual(['out-1']); // warming up: 400 ms of markers seen, 1 s needed
    await run([event(3), marker(4, { source: 'ingest-a', time: 11_000 }), marker(5, { source: 'ingest-b', time: 11_200 })]);
    const forwarded = { source: 'events.raw/2', time: 11_000, of: 4 };
    expect(sent()).toEqual([
      { topic: 'events.enriched', partition: undefined, value: 'out-3', progress: undefined },
      ...[0, 1, 2].map((partition) => ({ topic: 'events.enriched', partition, value: JSON.stringify(forwarded), progress: '1' })),
    ]);
  });

  it('forwards at once when it reads the partition from its log start: it has seen every ingest instance that ever wrote', async () => {
    const { run, sent } = setup('0');
    await run([marker(0, { source: 'ingest-a', time: 10_000 })]);
    expect(sent().map((r) => JSON.parse(r.value).time)).toEqual([10_000, 10_000, 10_000]);
  });

  it('forwards at most once per second of progress, and dead-letters a malformed marker without stopping', async () => {
    const { run, sent } = setup();
    await run([marker(0, { source: 'a', time: 10_000 }), marker(1, { source: 'a', time: 11_000 })]);
    expect(sent()).toHaveLength(3);
    await run([marker(2, { source: 'a', time: 11_900 }), marker(3, 'not json')]);
    expect(sent().map((r) => r.topic)).toEqual(['events.dlq']); // 900 ms of progress: nothing forwarded
    await run([marker(4, { source: 'a', time: 12_000 })]);
    expect(sent().map((r) => JSON.parse(r.value).time)).toEqual([12_000, 12_000, 12_000]);
  });
});

describe('TransactionalTransformStage poison isolation', () => {
  it('isolates the record a transform cannot get past by bisection, dead-letters it with its code and cause, and commits the others in order', async () => {
    const kafka = { failing: false, committed: [] as OutboundRecord[][], logStart: '-1' };
    const calls: string[][] = [];
    const stage = new TransactionalTransformStage<string>({
      groupId: 'g', dlqTopic: 'events.dlq', kafka: inMemoryKafka(kafka), logger: new JsonLogger('error', { service: 'test' }),
      metrics: new StageMetrics(new PrometheusMetrics('test'), 'enrich'), clock: new ManualClock(0),
      decode: (record) => ({ ...record, value: String(record.value) }),
      transform: async (records) => {
        calls.push(records.map((r) => r.offset));
        // A Postgres data error, as pg reports it: deterministic, so retrying the batch would never get past it.
        if (records.some((r) => r.value === 'bad')) throw Object.assign(new Error('value out of range for type integer'), { code: '22003', severity: 'ERROR' });
        return { outputs: records.map((r) => ({ topic: 'events.enriched', key: 'a', value: `out-${r.value}` })), rejected: [] };
      },
    });
    const retries: string[] = [];
    const control: BatchControl = { heartbeat: async () => undefined, isActive: () => true, retryFrom: (offset) => retries.push(offset) };
    const values = ['a', 'b', 'bad', 'c', 'd'];
    await stage.handle({
      topic: 'events.raw', partition: 2, nextOffset: '5',
      records: values.map((value, i) => ({ topic: 'events.raw', partition: 2, offset: String(i), key: 'k', value: Buffer.from(value), headers: {}, timestamp: 0 })),
    }, control);

    expect(retries).toEqual([]);
    expect(calls).toEqual([['0', '1', '2', '3', '4'], ['0', '1', '2'], ['0', '1'], ['2'], ['3', '4']]);
    const sent = kafka.committed[0];
    expect(sent.filter((r) => r.topic === 'events.enriched').map((r) => r.value)).toEqual(['out-a', 'out-b', 'out-c', 'out-d']);
    const dead = sent.filter((r) => r.topic === 'events.dlq');
    expect(dead.map((r) => [String(r.value), r.headers?.['x-origin-offset'], r.headers?.['x-error-code'], r.headers?.['x-error-message']])).toEqual([
      ['bad', '2', '22003', 'value out of range for type integer (postgres SQLSTATE 22003)'],
    ]);
  });

  it('retries the whole batch, isolating nothing, when the error is retriable (Postgres unavailable)', async () => {
    const kafka = { failing: false, committed: [] as OutboundRecord[][], logStart: '-1' };
    let calls = 0;
    const stage = new TransactionalTransformStage<string>({
      groupId: 'g', dlqTopic: 'events.dlq', kafka: inMemoryKafka(kafka), logger: new JsonLogger('error', { service: 'test' }),
      metrics: new StageMetrics(new PrometheusMetrics('test'), 'enrich'), clock: new ManualClock(0),
      decode: (record) => ({ ...record, value: String(record.value) }),
      transform: async () => {
        calls += 1;
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      },
    });
    const retries: string[] = [];
    const control: BatchControl = { heartbeat: async () => undefined, isActive: () => true, retryFrom: (offset) => retries.push(offset) };
    await stage.handle(batch, control);
    expect(calls).toBe(1);
    expect(retries).toEqual(['10']);
    expect(kafka.committed).toEqual([]);
  });
});
