// Shows that a wrongly shaped argument to the KafkaJS-compatible consumer.committed() crashes the process
// (native segfault) instead of throwing. Run: PATH=/work/main/node_modules/.bin:$PATH node ck-segv.mjs; echo $?
import ckjs from '@confluentinc/kafka-javascript';
import { BROKER } from './common.mjs';
const kafka = new ckjs.KafkaJS.Kafka({ kafkaJS: { brokers: [BROKER], logLevel: 1 } });
const c = kafka.consumer({ kafkaJS: { groupId: 'segv-probe', autoCommit: false } });
await c.connect();
console.log('calling committed() with {topic, partitions:[0]} (KafkaJS admin shape) instead of {topic, partition:0}');
try { console.log(await c.committed([{ topic: 'no-such-topic', partitions: [0] }], 5000)); } catch (e) { console.log('threw', e.message); }
await c.disconnect();
console.log('survived');
