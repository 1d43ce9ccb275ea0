// @confluentinc/kafka-javascript 1.10.1 (librdkafka 2.15.1): questions (a)-(d), KafkaJS-compatible API
// plus the node-rdkafka API where the former has no equivalent (position()).
// Run: PATH=/work/main/node_modules/.bin:$PATH node ck-correctness.mjs   (broker: ./broker.sh start)
import ckjs from '@confluentinc/kafka-javascript';
import { BROKER, RUN, sleep, within, createTopics, describeGroup, check } from './common.mjs';
const { Kafka } = ckjs.KafkaJS;
const kafka = new Kafka({ kafkaJS: { brokers: [BROKER], clientId: 'ck', logLevel: 1 /* ERROR */ } });
const txProducer = async (transactionalId) => {
  const p = kafka.producer({ kafkaJS: { transactionalId, idempotent: true, maxInFlightRequests: 1, acks: -1 }, 'linger.ms': 0 });
  await p.connect(); // initTransactions(): fences older producers with this id
  return p;
};
async function readAll(topic, { readUncommitted = false, groupId = `ck-reader-${RUN}-${Math.random().toString(36).slice(2)}`, commitLast = false, extra = {} } = {}) {
  const consumer = kafka.consumer({ kafkaJS: { groupId, fromBeginning: true, autoCommit: false, readUncommitted }, 'fetch.wait.max.ms': 100, ...extra });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  const got = [];
  let last = Date.now();
  consumer.run({ eachMessage: async ({ message, partition }) => { got.push({ value: message.value.toString(), offset: message.offset, partition }); last = Date.now(); } });
  const started = Date.now();
  while ((got.length === 0 || Date.now() - last < 1500) && Date.now() - started < 20_000) await sleep(100);
  return { consumer, got, values: got.map((m) => m.value) };
}

async function main() {
  const T = (n) => `ck-${n}-${RUN}`;
  await createTopics([{ topic: T('in'), partitions: 1 }, { topic: T('out'), partitions: 1 }, { topic: T('b'), partitions: 1 }, { topic: T('c'), partitions: 1 }, { topic: T('big'), partitions: 1 }]);
  const admin = kafka.admin();
  await admin.connect();
  const committed = async (groupId, topic, requireStableOffsets = true) => {
    const [t] = await admin.fetchOffsets({ groupId, topics: [{ topic, partitions: [0] }], requireStableOffsets });
    const part = t?.partitions.find((p) => p.partition === 0);
    if (part?.error) return `error:${part.error.code ?? part.error.type ?? part.error.message}`; // partition-level error (e.g. UNSTABLE_OFFSET_COMMIT)
    const off = part?.offset;
    return off === undefined || off === '-1' ? null : off;
  };

  // ---------- (a1) consume → process → produce → sendOffsets → commit, live consumer ----------
  {
    const seed = kafka.producer({ kafkaJS: { idempotent: true, acks: -1 } });
    await seed.connect();
    await seed.send({ topic: T('in'), messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `in-${i}` })) });
    await seed.disconnect();
    const group = `ck-stage-${RUN}`;
    const consumer = kafka.consumer({ kafkaJS: { groupId: group, fromBeginning: true, autoCommit: false } });
    await consumer.connect();
    await consumer.subscribe({ topics: [T('in')] });
    const producer = await txProducer(`ck-stage-tx-${RUN}`);
    let done;
    const finished = new Promise((r) => { done = r; });
    consumer.run({
      eachBatch: async ({ batch }) => {
        const tx = await producer.transaction();
        await tx.send({ topic: T('out'), messages: batch.messages.map((m) => ({ key: m.key, value: `out-${m.value}` })) });
        await tx.sendOffsets({ consumer, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }] }] });
        await tx.commit();
        if (Number(batch.lastOffset()) >= 9) done();
      },
    });
    await within(20_000, finished, 'a1 consume');
    check('a1 live-consumer transaction commits offset 10', (await committed(group, T('in'))) === '10', `committed=${await committed(group, T('in'))}`);
    await consumer.disconnect(); await producer.disconnect();
  }

  // ---------- (a2) marker group with NO live consumer ----------
  {
    const marker = `ck-stage-${RUN}.outbox`;
    const producer = await txProducer(`ck-outbox-tx-${RUN}`);
    // A consumer handle that is connected but never subscribes: it never joins the group, it only supplies
    // the group metadata (group id, generation -1, member "") that librdkafka's sendOffsetsToTransaction needs.
    const markerConsumer = kafka.consumer({ kafkaJS: { groupId: marker, autoCommit: false } });
    await markerConsumer.connect();
    let tx = await producer.transaction();
    await tx.send({ topic: T('out'), messages: [{ key: 'o1', value: 'outbox-1' }, { key: 'o2', value: 'outbox-2' }] });
    await tx.sendOffsets({ consumer: markerConsumer, topics: [{ topic: T('in'), partitions: [{ partition: 0, offset: '3' }] }] });
    await tx.commit();
    await sleep(200); // see (d): right after commit() the broker may still answer UNSTABLE_OFFSET_COMMIT
    const after1 = await committed(marker, T('in'));
    check('a2 marker group (no consumer) committed transactionally', after1 === '3', `committed=${after1}`);
    tx = await producer.transaction();
    await tx.send({ topic: T('out'), messages: [{ key: 'o3', value: 'outbox-3-aborted' }] });
    await tx.sendOffsets({ consumer: markerConsumer, topics: [{ topic: T('in'), partitions: [{ partition: 0, offset: '99' }] }] });
    await tx.abort();
    let after2; // retry while UNSTABLE_OFFSET_COMMIT (error 88) right after the abort, bounded
    for (let i = 0; i < 50; i++) { after2 = await committed(marker, T('in')); if (after2 !== 'error:88') break; await sleep(50); }
    check('a2 aborted marker commit is not visible', after2 === '3', `committed=${after2}`);
    console.log(describeGroup(marker).join('\n'));
    await markerConsumer.disconnect(); await producer.disconnect();
  }

  // ---------- (b) read_committed, two+ aborts by the same transactional.id + an interleaving producer ----------
  {
    const topic = T('b');
    const p2 = await txProducer(`ck-b2-${RUN}`);
    const t2 = await p2.transaction();
    await t2.send({ topic, messages: [{ key: 'x', value: 'X1-committed' }] });
    const p1 = await txProducer(`ck-b1-${RUN}`);
    let t1 = await p1.transaction();
    await t1.send({ topic, messages: [{ key: 'a', value: 'A1-aborted' }] });
    await t1.send({ topic, messages: [{ key: 'a', value: 'A2-aborted' }] });
    await t1.abort();
    await p1.disconnect();
    const p1b = await txProducer(`ck-b1-${RUN}`);
    t1 = await p1b.transaction();
    await t1.send({ topic, messages: [{ key: 'b', value: 'B1-aborted' }] });
    await t2.send({ topic, messages: [{ key: 'x', value: 'X2-committed' }] });
    await t1.send({ topic, messages: [{ key: 'b', value: 'B2-aborted' }] });
    await t1.abort();
    t1 = await p1b.transaction();
    await t1.send({ topic, messages: [{ key: 'd', value: 'D1-aborted' }] });
    await t1.abort();
    t1 = await p1b.transaction();
    await t1.send({ topic, messages: [{ key: 'c', value: 'C1-committed' }] });
    await t1.commit();
    await t2.send({ topic, messages: [{ key: 'x', value: 'X3-committed' }] });
    await t2.commit();
    await p1b.disconnect(); await p2.disconnect();
    const rc = await readAll(topic);
    console.log('read_committed got:', rc.values.join(', '));
    const leaked = rc.values.filter((v) => v.includes('aborted'));
    check('b read_committed returns only committed records', leaked.length === 0 && rc.values.filter((v) => v.includes('committed')).length === 4, `aborted delivered: [${leaked.join(', ')}]`);
    await rc.consumer.disconnect();
    const ru = await readAll(topic, { readUncommitted: true });
    console.log('read_uncommitted got:', ru.values.join(', '));
    await ru.consumer.disconnect();
  }

  // ---------- (b2) one aborted transaction larger than one fetch ----------
  {
    const topic = T('big');
    const p = await txProducer(`ck-big-${RUN}`);
    let t = await p.transaction();
    for (let i = 0; i < 20; i++) await t.send({ topic, messages: [{ key: 'a', value: `BIG${i}-aborted-` + 'x'.repeat(2000) }] });
    await t.abort();
    t = await p.transaction();
    await t.send({ topic, messages: [{ key: 'c', value: 'BIGC-committed' }] });
    await t.commit();
    await p.disconnect();
    const rc = await readAll(topic, { extra: { 'fetch.max.bytes': 8192, 'message.max.bytes': 8192, 'max.partition.fetch.bytes': 8192 } });
    const leaked = rc.values.filter((v) => v.includes('aborted'));
    check('b2 read_committed, aborted txn spanning several fetches (8 KiB)', leaked.length === 0 && rc.values.includes('BIGC-committed'), `got ${rc.values.length} records, aborted delivered: ${leaked.length}`);
    await rc.consumer.disconnect();
  }

  // ---------- (c) lag after reading a transactionally written topic ----------
  {
    const topic = T('c');
    const p = await txProducer(`ck-c-${RUN}`);
    const t = await p.transaction();
    await t.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `c${i}` })) });
    await t.commit();
    await p.disconnect();
    // KafkaJS-compatible API, commit last + 1 (what our port does today)
    const group1 = `ck-c1-${RUN}`;
    const rc = await readAll(topic, { groupId: group1 });
    const last = rc.got.at(-1);
    await rc.consumer.commitOffsets([{ topic, partition: 0, offset: String(Number(last.offset) + 1) }]);
    console.log(`(c) KafkaJS API: last offset ${last.offset}, committed last+1:`);
    console.log(describeGroup(group1).join('\n'));
    await rc.consumer.disconnect();
    // KafkaJS-compatible API, autoCommit (librdkafka commits its stored offsets)
    const group2 = `ck-c2-${RUN}`;
    const ac = await readAll(topic, { groupId: group2, extra: {} });
    await ac.consumer.commitOffsets(); // no argument: commits librdkafka's stored offsets for the assignment
    console.log('(c) KafkaJS API commitOffsets() with no argument (librdkafka stored offsets):');
    console.log(describeGroup(group2).join('\n'));
    await ac.consumer.disconnect();
    // node-rdkafka API: position() after consuming everything
    const group3 = `ck-c3-${RUN}`;
    const c = new ckjs.KafkaConsumer({ 'bootstrap.servers': BROKER, 'group.id': group3, 'enable.auto.commit': false, 'isolation.level': 'read_committed', 'auto.offset.reset': 'earliest' }, {});
    await new Promise((res, rej) => c.connect({}, (e) => (e ? rej(e) : res())));
    c.assign([{ topic, partition: 0, offset: 0 }]);
    const msgs = [];
    const started = Date.now();
    while (msgs.length < 10 && Date.now() - started < 15_000) {
      msgs.push(...await new Promise((res, rej) => c.consume(100, (e, m) => (e ? rej(e) : res(m)))));
    }
    await new Promise((res) => c.consume(10, () => res())); // one more fetch round: librdkafka skips the control record
    await sleep(500);
    await new Promise((res) => c.consume(10, () => res()));
    const pos = c.position([{ topic, partition: 0 }]);
    console.log(`(c) node-rdkafka API: consumed ${msgs.length}, last offset ${msgs.at(-1)?.offset}, position() = ${JSON.stringify(pos)}`);
    // Use that position inside a transaction (KafkaJS producer needs a KafkaJS consumer: use the marker-style handle)
    const p3 = await txProducer(`ck-c3-${RUN}`);
    const handle = kafka.consumer({ kafkaJS: { groupId: group3, autoCommit: false } });
    await handle.connect();
    const t3 = await p3.transaction();
    await t3.sendOffsets({ consumer: handle, topics: [{ topic, partitions: [{ partition: 0, offset: String(pos[0].offset) }] }] });
    await t3.commit();
    console.log(describeGroup(group3).join('\n'));
    check('c transactional commit of position() (past the commit marker)', (await committed(group3, topic)) === String(pos[0].offset) && pos[0].offset === 11, `committed=${await committed(group3, topic)}`);
    await handle.disconnect(); await p3.disconnect();
    await new Promise((res) => c.disconnect(() => res()));
  }

  // ---------- (d) require_stable while a transactional offset commit is pending ----------
  {
    const group = `ck-d-${RUN}`;
    const producer = await txProducer(`ck-d-tx-${RUN}`);
    const handle = kafka.consumer({ kafkaJS: { groupId: group, autoCommit: false } });
    await handle.connect();
    let t = await producer.transaction();
    await t.sendOffsets({ consumer: handle, topics: [{ topic: T('in'), partitions: [{ partition: 0, offset: '5' }] }] });
    await t.commit();
    t = await producer.transaction();
    await t.send({ topic: T('out'), messages: [{ key: 'd', value: 'd' }] });
    await t.sendOffsets({ consumer: handle, topics: [{ topic: T('in'), partitions: [{ partition: 0, offset: '7' }] }] });
    const plain = await committed(group, T('in'), false);
    const started = Date.now();
    const stablePromise = (async () => { // retry while the broker answers UNSTABLE_OFFSET_COMMIT (bounded: 50 x 50 ms)
      let v; const seen = [];
      for (let i = 0; i < 50; i++) { v = await committed(group, T('in'), true); seen.push(v); if (!String(v).startsWith('error:')) break; await sleep(50); }
      return `${v} (answers: ${[...new Set(seen)].join(' / ')}, ${seen.length} calls)`;
    })().then((v) => ({ v, ms: Date.now() - started }), (e) => ({ error: `${e.message} code=${e.code}`, ms: Date.now() - started }));
    await sleep(300);
    await t.commit();
    const stable = await stablePromise;
    console.log(`(d) admin.fetchOffsets while pending: requireStableOffsets=false -> ${plain}; requireStableOffsets=true -> ${JSON.stringify(stable)} (commit issued at ~300 ms)`);
    // KafkaJS consumer.committed() (librdkafka rd_kafka_committed): sets require_stable when isolation.level=read_committed
    const t2 = await producer.transaction();
    await t2.sendOffsets({ consumer: handle, topics: [{ topic: T('in'), partitions: [{ partition: 0, offset: '8' }] }] });
    const s2 = Date.now();
    const viaConsumer = handle.committed([{ topic: T('in'), partition: 0 }]).then((v) => ({ v: v?.[0]?.offset ?? JSON.stringify(v), ms: Date.now() - s2 }), (e) => ({ error: `${e.message} code=${e.code}`, ms: Date.now() - s2 }));
    await sleep(300);
    await t2.commit();
    console.log(`(d) consumer.committed() while pending: ${JSON.stringify(await viaConsumer)} (commit issued at ~300 ms)`);
    check('d require_stable does not return the stale offset', String(stable.v).startsWith('7'));
    await handle.disconnect(); await producer.disconnect();
  }
  await admin.disconnect();
}
await within(150_000, main(), 'ck-correctness').catch((e) => { console.error('ERROR', e); process.exitCode = 1; });
setTimeout(() => process.exit(), 500).unref();
