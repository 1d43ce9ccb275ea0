/**
 * The compiled services load our fix of KafkaJS's read_committed filter (libs/common/src/kafka/
 * kafkajs-aborted-filter.ts) and our faster produce encoding (kafkajs-fast-encoding.ts) in place of KafkaJS's
 * own modules. Checked in a plain Node process on the build, because Jest's module registry would not show what
 * `require` does at run time.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../tools/local-infra/src/paths';

const CLIENT = join(REPO_ROOT, 'dist', 'libs', 'common', 'src', 'kafka', 'kafkajs-client.js');
const runInBuild = (script: string): unknown => JSON.parse(execFileSync(process.execPath, ['-e', `require(${JSON.stringify(CLIENT)});\n${script}`], { cwd: REPO_ROOT, encoding: 'utf8' }));

describe('KafkaJS modules replaced in the build', () => {
  it('encodes produce requests with our encoders (native CRC32C, murmur2, per-partition grouping)', () => {
    const replaced = runInBuild(`
      const ours = require(${JSON.stringify(join(REPO_ROOT, 'dist', 'libs', 'common', 'src', 'kafka', 'kafkajs-fast-encoding.js'))});
      const crc = require('kafkajs/src/protocol/recordBatch/crc32C');
      process.stdout.write(JSON.stringify({
        crc: crc[Symbol.for('streamguard.kafkajs-fast-encoding')] === true,
        crcValue: crc(Buffer.from('123456789')),
        crcImplementation: ours.crc32cImplementation,
        murmur2: require('kafkajs/src/producer/partitioners/default/murmur2') === ours.murmur2,
        grouping: require('kafkajs/src/producer/groupMessagesPerPartition') === ours.groupMessagesPerPartition,
      }));
    `);
    // Byte equality with KafkaJS's own encoders is the unit spec's job (kafkajs-fast-encoding.spec.ts).
    expect(replaced).toEqual({ crc: true, crcValue: 0xe3069283, crcImplementation: 'native', murmur2: true, grouping: true });
  });

  it('drops records of interleaved aborted transactions that KafkaJS 2.2.4 alone would deliver', () => {
    const kept = runInBuild(`
      const Batch = require('kafkajs/src/consumer/batch');
      const ABORT = Buffer.from([0, 0, 0, 0]);
      const m = (offset, producerId, key = null) => ({ offset: String(offset), key, isControlRecord: key !== null, batchContext: { producerId: String(producerId), inTransaction: true } });
      // B (producer 2) starts first, A (producer 1) aborts first: the broker lists A before B.
      const messages = [m(10, 2), m(11, 1), m(12, 2), m(13, 1, ABORT), m(14, 2, ABORT), m(15, 3)];
      const batch = new Batch('t', '10', { partition: 0, highWatermark: '16', messages, abortedTransactions: [{ firstOffset: '11', producerId: '1' }, { firstOffset: '10', producerId: '2' }] });
      process.stdout.write(JSON.stringify(batch.messages.map((x) => x.offset)));
    `);
    expect(kept).toEqual(['15']); // KafkaJS's own filter keeps '10' too
  });
});
