// (e) Rebalancing: 6 partitions, members join 1→2→3 then leave 3→2→1 (6 s per phase) while a producer writes
// ~50 records/s/partition. For each membership change we look at partitions a member consumed just before AND
// a few seconds after the change ("retained") and report the longest consumption gap on them around the change.
// Eager protocols stop everything (gap ≈ rebalance time); cooperative ones keep retained partitions flowing.
// Run: PATH=/work/main/node_modules/.bin:$PATH node rebalance.mjs <pk|ck> <eager|cooperative|consumer>
import { Producer, Consumer, stringSerializers, stringDeserializers } from '@platformatic/kafka';
import ckjs from '@confluentinc/kafka-javascript';
import { BROKER, RUN, sleep, within, createTopics } from './common.mjs';
const [client, protocol] = process.argv.slice(2);
const PHASE_MS = 6000;
const topic = `rb-${client}-${protocol}-${RUN}`;
await createTopics([{ topic, partitions: 6 }]);
const t0 = Date.now();
const log = []; // [member, partition, t]
const assignmentsLog = [];
let stop = false;

const producer = new Producer({ bootstrapBrokers: [BROKER], clientId: 'rb-prod', serializers: stringSerializers, acks: 1 });
const producing = (async () => {
  let i = 0;
  while (!stop && Date.now() - t0 < 60_000) {
    await producer.send({ messages: Array.from({ length: 6 }, (_, p) => ({ topic, partition: p, key: `k${p}`, value: `v${i}` })) });
    i++; await sleep(20);
  }
})();

async function startMember(name) {
  if (client === 'pk') {
    const opts = { bootstrapBrokers: [BROKER], clientId: name, groupId: `rb-${RUN}-${protocol}`, deserializers: stringDeserializers, maxWaitTime: 100, retries: 50, retryDelay: 100 };
    if (protocol === 'consumer') opts.groupProtocol = 'consumer';
    else { opts.sessionTimeout = 10000; opts.heartbeatInterval = 1000; opts.rebalanceTimeout = 10000; if (protocol === 'cooperative') opts.protocols = [{ name: 'cooperative-sticky', version: 1 }]; }
    const c = new Consumer(opts);
    c.on('consumer:group:join', (p) => assignmentsLog.push({ t: Date.now() - t0, member: name, event: 'join', assignments: JSON.stringify((p.assignments ?? c.assignments ?? []).map((a) => [a.topic.slice(0, 4), a.partitions])) }));
    const stream = await c.consume({ topics: [topic], mode: 'latest', autocommit: false, maxWaitTime: 100 });
    stream.on('data', (m) => log.push([name, m.partition, Date.now() - t0]));
    return async () => { await stream.close().catch(() => {}); await c.close(); };
  }
  const kafka = new ckjs.KafkaJS.Kafka({ kafkaJS: { brokers: [BROKER], clientId: name, logLevel: 1 } });
  const cfg = { kafkaJS: { groupId: `rb-${RUN}-${protocol}`, autoCommit: false, fromBeginning: false }, 'fetch.wait.max.ms': 100 };
  if (protocol === 'consumer') cfg['group.protocol'] = 'consumer';
  else { Object.assign(cfg.kafkaJS, { sessionTimeout: 10000, heartbeatInterval: 1000, rebalanceTimeout: 10000, partitionAssigners: [protocol === 'cooperative' ? 'cooperative-sticky' : 'roundrobin'] }); }
  cfg.rebalance_cb = (err, assignment) => { assignmentsLog.push({ t: Date.now() - t0, member: name, event: err.code === ckjs.CODES.ERRORS.ERR__ASSIGN_PARTITIONS ? 'assigned' : 'revoked', assignments: JSON.stringify(assignment.map((a) => a.partition)) }); }; // must return undefined (a return value replaces the assignment)
  const c = kafka.consumer(cfg);
  await c.connect();
  await c.subscribe({ topics: [topic] });
  c.run({ eachMessage: async ({ partition }) => { log.push([name, partition, Date.now() - t0]); } });
  return async () => { await c.disconnect(); };
}

const changes = [];
const members = [];
for (const name of ['m1', 'm2', 'm3']) { changes.push({ t: Date.now() - t0, what: `+${name}` }); members.push(await within(30_000, startMember(name), name)); await sleep(PHASE_MS); }
for (const name of ['m3', 'm2']) { changes.push({ t: Date.now() - t0, what: `-${name}` }); await within(30_000, members.pop()(), `close ${name}`); await sleep(PHASE_MS); }
stop = true; await producing; await members.pop()(); await producer.close();

console.log(`client=${client} protocol=${protocol}`);
for (const a of assignmentsLog) console.log(`  t=${a.t}ms ${a.member} ${a.event} ${a.assignments}`);
// Who consumed which partitions in the last 2 s of each phase (duplicates = two members on one partition).
for (let i = 0; i < changes.length; i++) {
  const end = (changes[i + 1]?.t ?? changes[i].t + PHASE_MS), from = end - 2000;
  const own = {};
  for (const [m, p, tt] of log) if (tt > from && tt <= end) (own[m] ??= new Set()).add(p);
  console.log(`  phase after ${changes[i].what}: consumed in its last 2 s: ${Object.entries(own).sort().map(([m, ps]) => `${m}=[${[...ps].sort()}]`).join(' ')}`);
}
for (const { t, what } of changes.slice(1)) {
  const rows = [];
  for (const m of ['m1', 'm2', 'm3']) {
    for (let p = 0; p < 6; p++) {
      const times = log.filter(([mm, pp]) => mm === m && pp === p).map(([, , tt]) => tt);
      const before = times.some((x) => x > t - 1500 && x <= t);
      const after = times.some((x) => x > t + 4000 && x <= t + 5500);
      if (!before || !after) continue;
      const win = [t - 1000, ...times.filter((x) => x > t - 1000 && x < t + 5000), t + 5000];
      let gap = 0; for (let i = 1; i < win.length; i++) gap = Math.max(gap, win[i] - win[i - 1]);
      rows.push(`${m}/p${p}:${gap}ms`);
    }
  }
  const gaps = rows.map((r) => Number(r.split(':')[1].replace('ms', '')));
  console.log(`  change ${what} at t=${t}ms: retained partitions ${rows.length}; max gap on retained = ${gaps.length ? Math.max(...gaps) : '-'} ms  [${rows.join(' ')}]`);
}
setTimeout(() => process.exit(), 300).unref();
