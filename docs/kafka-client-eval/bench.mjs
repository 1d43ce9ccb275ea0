// (f) Throughput, one client per run, same broker. Phases:
//   single : 2,000 records of ~300 B, one awaited send per record (idempotent, acks=all)
//   batch  : 100,000 records of ~300 B, awaited sends of 1,000 records (idempotent, acks=all), 3 partitions
//   tx     : consume → produce → sendOffsets → commit over 50,000 of those records (read_committed,
//            one transaction per partition batch, like our TransactionalTransformStage)
// Run: PATH=/work/main/node_modules/.bin:$PATH node bench.mjs <pk|ck|kjs>
import { Producer, Consumer, stringSerializers, stringDeserializers, FetchIsolationLevels } from '@platformatic/kafka';
import ckjs from '@confluentinc/kafka-javascript';
import kafkajs from 'kafkajs';
import { BROKER, RUN, sleep, within, createTopics } from './common.mjs';
const client = process.argv[2];
const SINGLE = 2000, BATCH_TOTAL = 100_000, BATCH = 1000, TX_RECORDS = 50_000;
const T = (n) => `bench-${client}-${n}-${RUN}`;
await createTopics([{ topic: T('single'), partitions: 3 }, { topic: T('batch'), partitions: 3 }, { topic: T('out'), partitions: 3 }]);
const value = 'x'.repeat(290);
const rec = (i) => ({ key: `key-${i}`, value: `${i}:${value}`.slice(0, 300) });
const results = {};
const fmt = (n) => Math.round(n).toLocaleString('en-US');

// ----- adapters: send(topic, records), tx loop -----
let send, close, txLoop;
if (client === 'pk') {
  const p = new Producer({ bootstrapBrokers: [BROKER], clientId: 'bench', idempotent: true, acks: -1, serializers: stringSerializers, retries: 20, retryDelay: 20 });
  send = (topic, recs) => p.send({ messages: recs.map((r) => ({ topic, ...r })) });
  close = () => p.close();
  txLoop = async (inTopic, outTopic, n) => {
    const consumer = new Consumer({ bootstrapBrokers: [BROKER], clientId: 'bench-tx', groupId: `bench-tx-${RUN}`, deserializers: stringDeserializers, isolationLevel: FetchIsolationLevels.READ_COMMITTED, retries: 50, retryDelay: 100, maxWaitTime: 100 });
    const producer = new Producer({ bootstrapBrokers: [BROKER], clientId: 'bench-txp', transactionalId: `bench-tx-${RUN}`, idempotent: true, acks: -1, serializers: stringSerializers, retries: 50, retryDelay: 20 });
    const stream = await consumer.consume({ topics: [inTopic], mode: 'earliest', autocommit: false, maxWaitTime: 100 });
    const queue = [];
    stream.on('data', (m) => queue.push(m));
    let done = 0, txs = 0;
    const started = Date.now();
    while (done < n && Date.now() - started < 120_000) {
      if (queue.length === 0) { await sleep(2); continue; }
      const take = queue.splice(0, Math.min(queue.length, BATCH));
      const byPartition = new Map();
      for (const m of take) (byPartition.get(m.partition) ?? byPartition.set(m.partition, []).get(m.partition)).push(m);
      for (const msgs of byPartition.values()) {
        const tx = await producer.beginTransaction({ producerId: -1n, producerEpoch: -1 });
        await tx.send({ messages: msgs.map((m) => ({ topic: outTopic, key: m.key, value: m.value })) });
        await tx.addConsumer(consumer);
        await tx.addOffset(msgs.at(-1));
        await tx.commit();
        txs++; done += msgs.length;
      }
    }
    const s = (Date.now() - started) / 1000;
    await stream.close(); await consumer.close(); await producer.close();
    return { done, txs, s };
  };
} else if (client === 'ck') {
  const kafka = new ckjs.KafkaJS.Kafka({ kafkaJS: { brokers: [BROKER], clientId: 'bench', logLevel: 1 } });
  const single = kafka.producer({ kafkaJS: { idempotent: true, acks: -1, maxInFlightRequests: 5 }, 'linger.ms': 0 });
  const batched = kafka.producer({ kafkaJS: { idempotent: true, acks: -1, maxInFlightRequests: 5 } }); // librdkafka default linger.ms=5
  await single.connect(); await batched.connect();
  send = (topic, recs) => (recs.length === 1 ? single : batched).send({ topic, messages: recs });
  close = async () => { await single.disconnect(); await batched.disconnect(); };
  txLoop = async (inTopic, outTopic, n) => {
    const consumer = kafka.consumer({ kafkaJS: { groupId: `bench-tx-${RUN}`, fromBeginning: true, autoCommit: false }, 'fetch.wait.max.ms': 100, 'js.consumer.max.batch.size': BATCH });
    const producer = kafka.producer({ kafkaJS: { transactionalId: `bench-tx-${RUN}`, idempotent: true, acks: -1 }, 'linger.ms': 0 });
    await producer.connect(); await consumer.connect(); await consumer.subscribe({ topics: [inTopic] });
    let done = 0, txs = 0;
    const started = Date.now();
    consumer.run({ eachBatch: async ({ batch }) => {
      if (done >= n) return;
      const tx = await producer.transaction();
      await tx.send({ topic: outTopic, messages: batch.messages.map((m) => ({ key: m.key, value: m.value })) });
      await tx.sendOffsets({ consumer, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }] }] });
      await tx.commit();
      txs++; done += batch.messages.length;
    } });
    while (done < n && Date.now() - started < 120_000) await sleep(10);
    const s = (Date.now() - started) / 1000;
    await consumer.disconnect(); await producer.disconnect();
    return { done, txs, s };
  };
} else {
  const { Kafka, logLevel, Partitioners } = kafkajs;
  const kafka = new Kafka({ brokers: [BROKER], clientId: 'bench', logLevel: logLevel.ERROR });
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await p.connect();
  send = (topic, recs) => p.send({ topic, messages: recs, acks: -1 });
  close = () => p.disconnect();
  txLoop = async (inTopic, outTopic, n) => {
    const consumer = kafka.consumer({ groupId: `bench-tx-${RUN}`, readUncommitted: false, maxWaitTimeInMs: 100, maxBytesPerPartition: 1024 * 1024 });
    const producer = kafka.producer({ transactionalId: `bench-tx-${RUN}`, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect(); await consumer.connect(); await consumer.subscribe({ topic: inTopic, fromBeginning: true });
    let done = 0, txs = 0;
    const started = Date.now();
    consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async ({ batch, resolveOffset }) => {
      if (done >= n || batch.messages.length === 0) return;
      for (let i = 0; i < batch.messages.length; i += BATCH) {
        const msgs = batch.messages.slice(i, i + BATCH);
        const tx = await producer.transaction();
        await tx.send({ topic: outTopic, acks: -1, messages: msgs.map((m) => ({ key: m.key, value: m.value })) });
        await tx.sendOffsets({ consumerGroupId: `bench-tx-${RUN}`, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(Number(msgs.at(-1).offset) + 1) }] }] });
        await tx.commit();
        resolveOffset(msgs.at(-1).offset);
        txs++; done += msgs.length;
        if (done >= n) break;
      }
    } });
    while (done < n && Date.now() - started < 120_000) await sleep(10);
    const s = (Date.now() - started) / 1000;
    await consumer.disconnect(); await producer.disconnect();
    return { done, txs, s };
  };
}

await send(T('single'), [rec(-1)]); // warm-up: metadata, producer id
{
  const lat = [];
  const started = Date.now();
  for (let i = 0; i < SINGLE && Date.now() - started < 60_000; i++) { const t = process.hrtime.bigint(); await send(T('single'), [rec(i)]); lat.push(Number(process.hrtime.bigint() - t) / 1e6); }
  const s = (Date.now() - started) / 1000;
  lat.sort((a, b) => a - b);
  results.single = `${fmt(lat.length / s)} rec/s (${lat.length} in ${s.toFixed(1)} s; p50 ${lat[lat.length >> 1].toFixed(2)} ms, p99 ${lat[Math.floor(lat.length * 0.99)].toFixed(2)} ms)`;
}
{
  const started = Date.now();
  let sent = 0;
  for (let b = 0; sent < BATCH_TOTAL && Date.now() - started < 90_000; b++) { await send(T('batch'), Array.from({ length: BATCH }, (_, j) => rec(b * BATCH + j))); sent += BATCH; }
  const s = (Date.now() - started) / 1000;
  results.batch = `${fmt(sent / s)} rec/s (${sent} in ${s.toFixed(1)} s, ${(sent * 300 / s / 1e6).toFixed(1)} MB/s)`;
}
await close();
{
  const { done, txs, s } = await within(150_000, txLoop(T('batch'), T('out'), TX_RECORDS), 'tx loop');
  results.tx = `${fmt(done / s)} rec/s, ${fmt(txs / s)} tx/s (${done} records in ${txs} transactions, ${s.toFixed(1)} s)`;
}
console.log(JSON.stringify({ client, at: new Date().toISOString(), ...results }, null, 1));
setTimeout(() => process.exit(), 300).unref();
