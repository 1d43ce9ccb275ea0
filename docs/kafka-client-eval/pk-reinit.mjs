// @platformatic/kafka 2.12.1: a second producer instance with the same transactional.id (zombie fencing / restart).
// Run: PATH=/work/main/node_modules/.bin:$PATH node pk-reinit.mjs [workaround]
import { Producer, stringSerializers } from '@platformatic/kafka';
import { BROKER, RUN, within, createTopics, check } from './common.mjs';
const workaround = process.argv[2] === 'workaround';
const topic = `pk-reinit-${RUN}`;
await createTopics([{ topic, partitions: 1 }]);
// workaround: ask for a fresh InitProducerId (-1/-1) instead of the default (0/0)
const extra = workaround ? { producerId: -1n, producerEpoch: -1 } : {};
const make = () => new Producer({ bootstrapBrokers: [BROKER], clientId: 'reinit', transactionalId: `pk-reinit-tx-${RUN}`, idempotent: true, acks: -1, retries: 20, retryDelay: 20, serializers: stringSerializers });
async function once(i) {
  const p = make();
  try {
    const t = await p.beginTransaction(extra);
    await t.send({ messages: [{ topic, key: 'k', value: `v${i}` }] });
    await t.commit();
    return `ok producerId=${p.producerInfo?.producerId} epoch=${p.producerInfo?.producerEpoch}`;
  } catch (e) {
    return `FAILED: ${e.message} ${(e.errors ?? []).map((x) => `${x.message} (errorCode ${x.response?.errorCode})`).join('; ')}`;
  } finally { await p.close().catch(() => {}); }
}
const results = [];
for (let i = 0; i < 3; i++) results.push(await within(30_000, once(i), `producer ${i}`).catch((e) => `FAILED: ${e.message}`));
results.forEach((r, i) => console.log(`producer instance ${i + 1}: ${r}`));
check(`second producer with the same transactional.id ${workaround ? '(producerId -1n / epoch -1 passed to beginTransaction)' : '(defaults)'}`, results.every((r) => r.startsWith('ok')));
setTimeout(() => process.exit(), 300).unref();
