import {
  crc32c, crc32cImplementation, crc32cJs, createKeyHashPartitioner, createRecordBatchEncoder, createRecordEncoder, groupMessagesPerPartition, murmur2,
} from './kafkajs-fast-encoding';

// These compare with KafkaJS's own modules, which Jest's module registry keeps unreplaced (it bypasses
// require.cache); that the build really loads the replacements is checked in a plain Node process.
type Encoded = { buffer: Buffer };
const originalCrc = require('kafkajs/src/protocol/recordBatch/crc32C') as (data: Buffer) => number;
const originalMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer | string) => number;
const originalRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: object) => Encoded;
const { RecordBatch: originalRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (b: object) => Promise<Encoded> };
const Long = require('kafkajs/src/utils/long') as { fromValue(v: unknown): unknown };

const fastRecord = createRecordEncoder(originalRecord as never) as unknown as (r: object) => Encoded;
const fastRecordBatch = createRecordBatchEncoder(originalRecordBatch as never, crc32c) as unknown as (b: object) => Promise<Encoded>;

/** Byte-for-byte equality (Buffer#equals does not type-check with these @types/node and TypeScript). */
const same = (a: Buffer, b: Buffer) => a.length === b.length && a.toString('latin1') === b.toString('latin1');

/** Deterministic PRNG (mulberry32), so a failure can be reproduced. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const alphabet = ['a', 'Z', '0', '-', '{', '"', ' ', 'é', 'ß', '€', '中', '😀', '\u0000'];
  const string = (n: number) => Array.from({ length: n }, () => alphabet[int(alphabet.length)]).join('');
  return { next, int, bytes, string };
}

describe('CRC32C', () => {
  const vectors: Array<[string, Buffer, number]> = [
    ['"123456789"', Buffer.from('123456789'), 0xe3069283],
    ['empty', Buffer.alloc(0), 0],
    ['32 zero bytes (RFC 3720)', Buffer.alloc(32, 0), 0x8a9136aa],
    ['32 0xff bytes (RFC 3720)', Buffer.alloc(32, 0xff), 0x62a8ab43],
    ['0..31 (RFC 3720)', Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e],
    ['31..0 (RFC 3720)', Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c],
  ];
  it.each(vectors)('gives the known value for %s', (_name, data, expected) => {
    expect(crc32cJs(data)).toBe(expected);
    expect(crc32c(data)).toBe(expected);
    expect(originalCrc(data)).toBe(expected);
  });

  it(`equals KafkaJS's on random buffers of every length and alignment (in use: ${crc32cImplementation})`, () => {
    const r = rng(1);
    const backing = r.bytes(70_000);
    const lengths = [...Array.from({ length: 300 }, (_, i) => i), 1023, 4096, 4097, 65_535];
    for (const length of lengths) {
      const start = r.int(16); // byteOffset not a multiple of 8
      const data = backing.subarray(start, start + length);
      const expected = originalCrc(data);
      expect(crc32cJs(data)).toBe(expected);
      expect(crc32c(data)).toBe(expected);
    }
  });

  it('returns unsigned 32-bit values', () => {
    const r = rng(2);
    for (let i = 0; i < 200; i++) {
      const value = crc32c(r.bytes(r.int(64)));
      expect(Number.isInteger(value) && value >= 0 && value <= 0xffffffff).toBe(true);
    }
  });
});

describe('murmur2', () => {
  it("equals KafkaJS's for random string and Buffer keys of every length", () => {
    const r = rng(3);
    for (let i = 0; i < 2000; i++) {
      const key = i % 2 === 0 ? r.string(r.int(48)) : r.bytes(r.int(48));
      expect(murmur2(key)).toBe(originalMurmur2(key));
    }
    for (const key of ['', 'a', 'ab', 'abc', 'abcd', 'acct-100042', '21', 'foobar']) expect(murmur2(key)).toBe(originalMurmur2(key));
  });
});

describe('partitioning', () => {
  const originalGroup = require('kafkajs/src/producer/groupMessagesPerPartition') as typeof groupMessagesPerPartition;
  const { Partitioners } = require('kafkajs') as { Partitioners: { DefaultPartitioner: () => (a: object) => number } };
  const metadata = (n: number, down: number[] = []) => Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: down.includes(partitionId) ? -1 : 0 }));

  it("chooses KafkaJS's DefaultPartitioner partition for keyed, unkeyed and explicitly placed records", () => {
    const r = rng(11);
    const ours = createKeyHashPartitioner(Partitioners.DefaultPartitioner as never)();
    const theirs = Partitioners.DefaultPartitioner();
    for (let i = 0; i < 3000; i++) {
      const partitionMetadata = metadata(1 + r.int(12), [r.int(12)]);
      const message = i % 3 === 0 ? { key: r.string(r.int(20)) } : i % 3 === 1 ? { key: r.bytes(r.int(20)), partition: r.int(3) } : { key: r.string(8) };
      expect(ours({ topic: 't', partitionMetadata, message })).toBe(theirs({ topic: 't', partitionMetadata, message }));
    }
    // Unkeyed records go round-robin over available partitions, as KafkaJS's do (its counter starts at random).
    const unkeyed = Array.from({ length: 12 }, () => ours({ topic: 'u', partitionMetadata: metadata(4, [2]), message: { key: null } }));
    expect(new Set(unkeyed)).toEqual(new Set([0, 1, 3]));
  });

  it('groups records per partition in their order, exactly as KafkaJS does', () => {
    const r = rng(12);
    const partitioner = createKeyHashPartitioner(Partitioners.DefaultPartitioner as never)();
    for (let i = 0; i < 50; i++) {
      const messages = Array.from({ length: r.int(400) }, (_, n) => ({ key: `k${r.int(1000)}`, value: String(n) }));
      const args = { topic: 't', partitionMetadata: metadata(1 + r.int(8)), messages, partitioner };
      expect(groupMessagesPerPartition(args)).toEqual(originalGroup(args));
    }
    expect(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages: [{ key: 'a' }], partitioner })).toEqual({});
  });
});

describe('record encoding', () => {
  const r = rng(4);
  const bytesOrString = (max: number) => {
    switch (r.int(4)) {
      case 0: return null;
      case 1: return r.bytes(r.int(max));
      default: return r.string(r.int(max));
    }
  };
  const randomHeaders = () => {
    switch (r.int(4)) {
      case 0: return undefined;
      case 1: return {};
      default: {
        const headers: Record<string, unknown> = {};
        for (let i = 0, n = 1 + r.int(4); i < n; i++) {
          const value = () => (r.int(2) ? r.string(r.int(40)) : r.bytes(r.int(40)));
          headers[r.string(1 + r.int(20))] = r.int(4) === 0 ? Array.from({ length: r.int(3) }, value) : value();
        }
        return headers;
      }
    }
  };
  const randomTimestampDelta = () => {
    switch (r.int(5)) {
      case 0: return 0;
      case 1: return r.int(1000);
      case 2: return -r.int(2 ** 31);
      case 3: return Math.floor((r.next() - 0.5) * 2 ** 52); // past 32 bits, within the fast path
      default: return Math.floor((r.next() - 0.5) * 2 ** 60); // past the fast path: KafkaJS's Long
    }
  };
  const randomRecord = () => ({
    offsetDelta: r.int(3) === 0 ? r.int(2 ** 31) : r.int(1000),
    timestampDelta: randomTimestampDelta(),
    key: bytesOrString(64),
    value: bytesOrString(r.int(10) === 0 ? 20_000 : 400),
    headers: randomHeaders(),
  });

  it("writes the same bytes as KafkaJS's for random records", () => {
    for (let i = 0; i < 3000; i++) {
      const record = randomRecord();
      expect(same(fastRecord(record).buffer, originalRecord(record).buffer)).toBe(true);
    }
  });

  it('writes the same bytes for the records KafkaJS makes with defaults and negative deltas', () => {
    const cases = [{ key: 'k', value: 'v' }, { value: null }, { key: Buffer.alloc(0), value: '' }, { offsetDelta: -1, timestampDelta: -1, value: 'x' }];
    for (const record of cases) expect(same(fastRecord(record).buffer, originalRecord(record).buffer)).toBe(true);
  });

  it("leaves odd input to KafkaJS's encoder, errors included", () => {
    const odd = [
      { key: 'k', value: 'v', timestampDelta: '1000' }, // a string: KafkaJS parses it
      { key: 'k', value: 'v', timestampDelta: 2 ** 53 + 2 },
      { key: 'k', value: 'v', headers: { a: 1 } }, // throws in KafkaJS
      { key: 'k', value: 'v', headers: { a: null } },
      { key: 1, value: 'v' },
      { key: 'k', value: 'v', timestampDelta: 1.5 },
    ];
    for (const record of odd) {
      let expected: Buffer | undefined;
      let failure: string | undefined; // not `instanceof Error`: Node's errors come from another realm than Jest's
      try {
        expected = originalRecord(record).buffer;
      } catch (error) {
        failure = (error as Error).message;
      }
      if (failure !== undefined) expect(() => fastRecord(record)).toThrow(failure);
      else expect(same(fastRecord(record).buffer, expected!)).toBe(true);
    }
  });

  it("writes the same record batches as KafkaJS's, for records from either encoder", async () => {
    for (let i = 0; i < 60; i++) {
      const inputs = Array.from({ length: i === 0 ? 0 : 1 + r.int(i < 30 ? 20 : 1000) }, randomRecord);
      const batch = {
        records: inputs.map(originalRecord),
        firstTimestamp: 1_700_000_000_000 + r.int(1e9), maxTimestamp: 1_800_000_000_000,
        lastOffsetDelta: Math.max(0, inputs.length - 1), transactional: r.int(2) === 1,
        producerId: Long.fromValue(r.int(2) ? -1 : r.int(2 ** 31) * 1000), producerEpoch: r.int(100), firstSequence: r.int(2 ** 31),
        partitionLeaderEpoch: r.int(3) - 1,
      };
      const expected = (await originalRecordBatch(batch)).buffer;
      expect(same((await fastRecordBatch(batch)).buffer, expected)).toBe(true);
      expect(same((await fastRecordBatch({ ...batch, records: inputs.map(fastRecord) })).buffer, expected)).toBe(true);
    }
  });

  it("writes the same compressed batches (KafkaJS's own path) and the same defaults", async () => {
    const records = Array.from({ length: 50 }, randomRecord).map(fastRecord);
    const batch = { compression: 1, records, firstTimestamp: 1, maxTimestamp: 2, lastOffsetDelta: 49 };
    expect(same((await fastRecordBatch(batch)).buffer, (await originalRecordBatch(batch)).buffer)).toBe(true);
    const plain = { records, firstTimestamp: 5, maxTimestamp: 6 };
    expect(same((await fastRecordBatch(plain)).buffer, (await originalRecordBatch(plain)).buffer)).toBe(true);
  });
});
