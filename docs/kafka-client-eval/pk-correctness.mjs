// @platformatic/kafka 2.12.1: questions (a) marker-group transactional offsets, (b) read_committed with
// interleaved aborts, (c) lag after transaction markers, (d) require_stable offset reads.
// Run: PATH=/work/main/node_modules/.bin:$PATH node pk-correctness.mjs   (broker: ./broker.sh start)
import { Producer, Consumer, Admin, stringSerializers, stringDeserializers, FetchIsolationLevels } from '@platformatic/kafka';
import { BROKER, RUN, sleep, within, createTopics, describeGroup, check } from './common.mjs';

// Workaround (see pk-reinit.mjs): without it a 2nd producer instance with the same transactional.id is fenced.
const FRESH = { producerId: -1n, producerEpoch: -1 };
const base = { bootstrapBrokers: [BROKER], retries: 100, retryDelay: 20 }; // 20 ms: see the retryDelay note in the doc
const txProducer = (transactionalId) => new Producer({ ...base, clientId: `tx-${transactionalId}`, transactionalId, idempotent: true, acks: -1, serializers: stringSerializers });

/** Reads a topic from the beginning until it is quiet for 1.5 s (max 20 s). Returns values, offsets and the stream's next fetch offsets. */
async function readAll(topic, { isolationLevel, groupId = `reader-${RUN}-${Math.random().toString(36).slice(2)}`, maxBytes } = {}) {
  const consumer = new Consumer({ ...base, clientId: 'reader', groupId, deserializers: stringDeserializers, isolationLevel, maxWaitTime: 200, ...(maxBytes ? { maxBytes, maxBytesPerPartition: maxBytes } : {}) });
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, isolationLevel, maxWaitTime: 200, ...(maxBytes ? { maxBytes, maxBytesPerPartition: maxBytes } : {}) });
  const got = [];
  let last = Date.now();
  stream.on('data', (m) => { got.push(m); last = Date.now(); });
  const started = Date.now();
  while (Date.now() - last < 1500 && Date.now() - started < 20_000) await sleep(100);
  const offsetsToFetch = new Map(stream.offsetsToFetch);
  return { got, values: got.map((m) => m.value), offsetsToFetch, stream, consumer };
}

async function main() {
  const T = (n) => `pk-${n}-${RUN}`;
  await createTopics([{ topic: T('in'), partitions: 1 }, { topic: T('out'), partitions: 1 }, { topic: T('b'), partitions: 1 }, { topic: T('c'), partitions: 1 }, { topic: T('big'), partitions: 1 }]);
  const admin = new Admin({ ...base, clientId: 'admin' });
  const committed = async (groupId, topic, requireStable = true) => {
    const [g] = await admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: [{ name: topic, partitionIndexes: [0] }] }], requireStable });
    const off = g?.topics.find((t) => t.name === topic)?.partitions[0]?.committedOffset;
    return off === undefined ? null : off;
  };

  // ---------- (a1) consume → process → produce → addOffset → commit with a live consumer ----------
  {
    const seed = new Producer({ ...base, clientId: 'seed', idempotent: true, acks: -1, serializers: stringSerializers });
    await seed.send({ messages: Array.from({ length: 10 }, (_, i) => ({ topic: T('in'), key: `k${i}`, value: `in-${i}` })) });
    await seed.close();
    const group = `pk-stage-${RUN}`;
    const consumer = new Consumer({ ...base, clientId: 'stage', groupId: group, deserializers: stringDeserializers, isolationLevel: FetchIsolationLevels.READ_COMMITTED });
    const stream = await consumer.consume({ topics: [T('in')], mode: 'committed', fallbackMode: 'earliest', autocommit: false, maxWaitTime: 200 });
    const producer = txProducer(`pk-stage-tx-${RUN}`);
    const batch = [];
    await within(15_000, (async () => { for await (const m of stream) { batch.push(m); if (m.offset >= 9n) return; } })(), 'consume');
    const tx = await producer.beginTransaction(FRESH);
    await tx.send({ messages: batch.map((m) => ({ topic: T('out'), key: m.key, value: `out-${m.value}` })) });
    await tx.addConsumer(consumer);          // AddOffsetsToTxn(group)
    await tx.addOffset(batch.at(-1));        // TxnOffsetCommit(group, generation, member): commits offset + 1
    await tx.commit();
    check('a1 live-consumer transaction commits offset 10', (await committed(group, T('in'))) === 10n, `committed=${await committed(group, T('in'))}`);
    await stream.close(); await consumer.close(); await producer.close();
  }

  // ---------- (a2) marker group with NO live consumer ----------
  {
    const marker = `pk-stage-${RUN}.outbox`;
    const producer = txProducer(`pk-outbox-tx-${RUN}`);
    // A Consumer object that never joins: only its groupId and its group coordinator are used.
    const markerConsumer = new Consumer({ ...base, clientId: 'marker', groupId: marker });
    const coordinatorId = await markerConsumer.findGroupCoordinator();
    const markerOffset = (topic, partition, nextOffset) => ({
      topic, partition, offset: nextOffset - 1n, // addOffset commits offset + 1
      metadata: { consumer: { groupId: marker, generationId: -1, memberId: '', coordinatorId } },
    });
    let tx = await producer.beginTransaction(FRESH);
    await tx.send({ messages: [{ topic: T('out'), key: 'o1', value: 'outbox-1' }, { topic: T('out'), key: 'o2', value: 'outbox-2' }] });
    await tx.addConsumer(markerConsumer);
    await tx.addOffset(markerOffset(T('in'), 0, 3n)); // "published through seq 2"
    await tx.commit();
    const after1 = await committed(marker, T('in'));
    check('a2 marker group (no consumer) committed transactionally', after1 === 3n, `committed=${after1}`);
    tx = await producer.beginTransaction(FRESH);
    await tx.send({ messages: [{ topic: T('out'), key: 'o3', value: 'outbox-3-aborted' }] });
    await tx.addConsumer(markerConsumer);
    await tx.addOffset(markerOffset(T('in'), 0, 99n));
    await tx.abort();
    const after2 = await committed(marker, T('in'));
    check('a2 aborted marker commit is not visible', after2 === 3n, `committed=${after2}`);
    console.log(describeGroup(marker).join('\n'));
    await markerConsumer.close(); await producer.close();
  }

  // ---------- (b) read_committed with two aborts by the same transactional.id + an interleaving producer ----------
  {
    const topic = T('b');
    const p2 = txProducer(`pk-b2-${RUN}`);
    const t2 = await p2.beginTransaction(FRESH);
    await t2.send({ messages: [{ topic, key: 'x', value: 'X1-committed' }] });
    const p1 = txProducer(`pk-b1-${RUN}`);
    let t1 = await p1.beginTransaction(FRESH);
    await t1.send({ messages: [{ topic, key: 'a', value: 'A1-aborted' }] });
    await t1.send({ messages: [{ topic, key: 'a', value: 'A2-aborted' }] });
    await t1.abort();
    const pid1 = p1.producerInfo?.producerId ?? '?';
    await p1.close();
    const p1b = txProducer(`pk-b1-${RUN}`); // same transactional.id: new epoch, same producerId
    t1 = await p1b.beginTransaction(FRESH);
    await t1.send({ messages: [{ topic, key: 'b', value: 'B1-aborted' }] });
    await t2.send({ messages: [{ topic, key: 'x', value: 'X2-committed' }] });
    await t1.send({ messages: [{ topic, key: 'b', value: 'B2-aborted' }] });
    await t1.abort();
    t1 = await p1b.beginTransaction(FRESH); // same producer instance, third abort
    await t1.send({ messages: [{ topic, key: 'd', value: 'D1-aborted' }] });
    await t1.abort();
    console.log(`producerIds: first=${pid1} second=${p1b.producerInfo?.producerId ?? '?'}`);
    t1 = await p1b.beginTransaction(FRESH);
    await t1.send({ messages: [{ topic, key: 'c', value: 'C1-committed' }] });
    await t1.commit();
    await t2.send({ messages: [{ topic, key: 'x', value: 'X3-committed' }] });
    await t2.commit();
    await p1b.close(); await p2.close();
    const rc = await readAll(topic, { isolationLevel: FetchIsolationLevels.READ_COMMITTED });
    console.log('read_committed got:', rc.values.join(', '));
    const leaked = rc.values.filter((v) => v.includes('aborted'));
    check('b read_committed returns only committed records', leaked.length === 0 && rc.values.filter((v) => v.includes('committed')).length === 4, `aborted delivered: [${leaked.join(', ')}]`);
    await rc.stream.close(); await rc.consumer.close();
    const ru = await readAll(topic, { isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED });
    console.log('read_uncommitted got:', ru.values.join(', '));
    await ru.stream.close(); await ru.consumer.close();
  }

  // ---------- (b2) one aborted transaction larger than one fetch (abort marker in a later fetch) ----------
  {
    const topic = T('big');
    const p = txProducer(`pk-big-${RUN}`);
    let t = await p.beginTransaction(FRESH);
    for (let i = 0; i < 20; i++) await t.send({ messages: [{ topic, key: 'a', value: `BIG${i}-aborted-` + 'x'.repeat(2000) }] });
    await t.abort();
    t = await p.beginTransaction(FRESH);
    await t.send({ messages: [{ topic, key: 'c', value: 'BIGC-committed' }] });
    await t.commit();
    await p.close();
    const rc = await readAll(topic, { isolationLevel: FetchIsolationLevels.READ_COMMITTED, maxBytes: 8 * 1024 });
    const leaked = rc.values.filter((v) => v.includes('aborted'));
    check('b2 read_committed, aborted txn spanning several fetches (maxBytes 8 KiB)', leaked.length === 0 && rc.values.includes('BIGC-committed'), `got ${rc.values.length} records, aborted delivered: ${leaked.length}`);
    await rc.stream.close(); await rc.consumer.close();
  }

  // ---------- (c) lag after reading a transactionally written topic ----------
  {
    const topic = T('c');
    const p = txProducer(`pk-c-${RUN}`);
    const t = await p.beginTransaction(FRESH);
    await t.send({ messages: Array.from({ length: 10 }, (_, i) => ({ topic, key: `k${i}`, value: `c${i}` })) });
    await t.commit();
    await p.close();
    const group = `pk-c-${RUN}`;
    const rc = await readAll(topic, { isolationLevel: FetchIsolationLevels.READ_COMMITTED, groupId: group });
    const last = rc.got.at(-1);
    await last.commit(); // commits last.offset + 1 = 10
    console.log(`(c) last record offset=${last.offset}; stream.offsetsToFetch=${JSON.stringify([...rc.offsetsToFetch].map(([k, v]) => [k, String(v)]))}`);
    console.log(describeGroup(group).join('\n'));
    const lag = await rc.consumer.getLag({ topics: [topic] });
    console.log('(c) consumer.getLag after committing last+1:', JSON.stringify([...lag].map(([k, v]) => [k, v.map(String)])));
    const next = rc.offsetsToFetch.get(`${topic}:0`) ?? [...rc.offsetsToFetch.values()][0];
    await rc.consumer.commit({ offsets: [{ topic, partition: 0, offset: next, leaderEpoch: 0 }] });
    console.log(`(c) after committing offsetsToFetch (${next}):`);
    console.log(describeGroup(group).join('\n'));
    // And transactionally, past the marker, via addOffset (which commits offset + 1).
    const p3 = txProducer(`pk-c3-${RUN}`);
    const t3 = await p3.beginTransaction(FRESH);
    await t3.addConsumer(rc.consumer);
    await t3.addOffset({ ...last, offset: next - 1n });
    await t3.commit();
    check('c transactional commit of the position past the commit marker', (await committed(group, topic)) === next, `committed=${await committed(group, topic)}`);
    await p3.close(); await rc.stream.close(); await rc.consumer.close();
  }

  // ---------- (d) require_stable while a transactional offset commit is pending ----------
  {
    const group = `pk-d-${RUN}`;
    const producer = txProducer(`pk-d-tx-${RUN}`);
    const c = new Consumer({ ...base, clientId: 'd', groupId: group });
    const coordinatorId = await c.findGroupCoordinator();
    const off = (n) => ({ topic: T('in'), partition: 0, offset: n - 1n, metadata: { consumer: { groupId: group, generationId: -1, memberId: '', coordinatorId } } });
    let t = await producer.beginTransaction(FRESH);
    await t.addConsumer(c); await t.addOffset(off(5n)); await t.commit();
    t = await producer.beginTransaction(FRESH);
    await t.send({ messages: [{ topic: T('out'), key: 'd', value: 'd' }] });
    await t.addConsumer(c); await t.addOffset(off(7n));
    // Pending: not yet committed.
    const plain = await committed(group, T('in'), false);
    const started = Date.now();
    const stablePromise = committed(group, T('in'), true).then((v) => ({ v, ms: Date.now() - started }), (e) => ({ error: e.message + ' ' + JSON.stringify(e.errors?.map?.((x) => x.message) ?? e.cause?.message ?? ''), ms: Date.now() - started }));
    await sleep(300);
    await t.commit();
    const stable = await stablePromise;
    console.log(`(d) while pending: requireStable=false -> ${plain}; requireStable=true -> ${JSON.stringify(stable, (k, v) => typeof v === 'bigint' ? String(v) : v)} (commit issued at ~300 ms)`);
    check('d require_stable does not return the stale offset', stable.v === 7n || stable.error !== undefined, '');
    await c.close(); await producer.close();
  }
  await admin.close();
}
await within(120_000, main(), 'pk-correctness').catch((e) => { console.error('ERROR', e, e.errors ?? ''); process.exitCode = 1; });
setTimeout(() => process.exit(), 500).unref();
