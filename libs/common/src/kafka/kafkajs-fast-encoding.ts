/**
 * Cheaper produce-side encoding for KafkaJS 2.2.4 (loaded before `kafkajs` by kafkajs-client.ts, like
 * kafkajs-aborted-filter.ts). Every replacement writes exactly the bytes KafkaJS would write (the spec compares
 * them with KafkaJS's own code on random input); anything unusual is handed to KafkaJS's original.
 *
 * Why: under batch load (1,000-event HTTP batches of ~231-byte JSON records, acks=all, no compression) the
 * ingest service's CPU profile was dominated by KafkaJS encoding produce requests. Measured with one
 * 1,000-record batch (node 20, x64; µs per batch, KafkaJS's → these; the produce encode went ~3,400 → ~1,700,
 * ~6,400 → ~2,300 with two headers per record, and partitioning plus encode ~4,900 → ~2,400):
 *  - Records, ~80% of the encode: each record and each header got its own 512-byte Encoder, every varint its
 *    own Buffer.from([...]), and the timestamp delta went through BigInt-based `Long`. Now one exactly-sized
 *    buffer per record (~2,750 → ~1,550, ~5,900 → ~2,000 with headers; what is left is mostly KafkaJS's
 *    `{ ...message }` per record in the produce request and garbage collection).
 *  - CRC32C of the record batch, ~13%: a byte-at-a-time table loop in JS. ~450 → ~30 with the native
 *    `@node-rs/crc32`, ~115 with the slicing-by-8 JS below, used when the native module does not load.
 *  - The record batch, ~4%: the body was grown by doubling and copied three times; now written once.
 *  - murmur2 of each key to pick the partition (our producers use KafkaJS's DefaultPartitioner and key every
 *    record): 64-bit BigInt `Long` arithmetic of which only the low 32 bits count; Math.imul now (~850 → ~75).
 *  - Grouping records per partition (found next, in ingest's profile: 5.8 % self time): KafkaJS copies the
 *    partition's array for every record, and its partitioner scans the partition list for every record.
 */
const CASTAGNOLI_REVERSED = 0x82f63b78;

/** Slicing-by-8 tables: TABLES[k * 256 + b] is the CRC of byte b followed by k zero bytes. */
const TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let i = 0; i < 8; i++) c = c & 1 ? (c >>> 1) ^ CASTAGNOLI_REVERSED : c >>> 1;
    t[b] = c;
  }
  for (let b = 0; b < 256; b++) {
    for (let k = 1; k < 8; k++) t[k * 256 + b] = (t[(k - 1) * 256 + b] >>> 8) ^ t[t[(k - 1) * 256 + b] & 0xff];
  }
  return t;
})();

/** CRC32C (Castagnoli) in plain JS, eight bytes per step; unsigned, as KafkaJS's `crc32C` returns it. */
export function crc32cJs(data: Buffer | Uint8Array): number {
  const t = TABLES;
  let crc = -1;
  let i = 0;
  const end8 = data.length - (data.length & 7);
  for (; i < end8; i += 8) {
    const lo = crc ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    crc = t[1792 + (lo & 0xff)] ^ t[1536 + ((lo >>> 8) & 0xff)] ^ t[1280 + ((lo >>> 16) & 0xff)] ^ t[1024 + (lo >>> 24)]
      ^ t[768 + data[i + 4]] ^ t[512 + data[i + 5]] ^ t[256 + data[i + 6]] ^ t[data[i + 7]];
  }
  for (; i < data.length; i++) crc = t[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

type Crc = (data: Buffer) => number;

/** The native CRC32C of `@node-rs/crc32` if it loads on this platform and gives the right answer, else null. */
function loadNativeCrc32c(): Crc | null {
  try {
    const { crc32c } = require('@node-rs/crc32') as { crc32c: (input: Buffer, initial?: number) => number };
    const check = Buffer.from('123456789');
    return crc32c(check) === 0xe3069283 && crc32c(Buffer.alloc(0)) === 0 ? (data) => crc32c(data) >>> 0 : null;
  } catch {
    return null;
  }
}

const nativeCrc32c = loadNativeCrc32c();

/** Which CRC32C is in use: 'native' (@node-rs/crc32) or 'js' (slicing-by-8 fallback). */
export const crc32cImplementation: 'native' | 'js' = nativeCrc32c ? 'native' : 'js';

/** Drop-in for `kafkajs/src/protocol/recordBatch/crc32C` (unsigned CRC32C of a buffer). */
export function crc32c(data: Buffer): number {
  return nativeCrc32c && Buffer.isBuffer(data) ? nativeCrc32c(data) : crc32cJs(data);
}

/**
 * Drop-in for KafkaJS's murmur2 (Java client's `Utils.murmur2`). KafkaJS computes it in 64-bit `Long`s, but
 * only the low 32 bits ever reach the result (multiplication, xor and the shifts of `toInt()` only depend
 * on them), so 32-bit Math.imul gives the same value.
 */
export function murmur2(key: Buffer | string): number {
  const data = Buffer.isBuffer(key) ? key : Buffer.from(String(key));
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2] << 16;
  if (rest >= 2) h ^= data[tail + 1] << 8;
  if (rest >= 1) h = Math.imul(h ^ data[tail], m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

// --- Records -------------------------------------------------------------------------------------------

/** KafkaJS's Encoder: our results are Encoders too, so KafkaJS code that writes them finds what it expects. */
interface KafkaJsEncoder { buf: Buffer; offset: number; readonly buffer: Buffer; size(): number }
type EncoderClass = { prototype: KafkaJsEncoder; new (initialSize?: number): KafkaJsEncoder };
const Encoder = require('kafkajs/src/protocol/encoder') as EncoderClass;

function encoderOf(buf: Buffer, length: number): KafkaJsEncoder {
  const encoder = Object.create(Encoder.prototype) as KafkaJsEncoder;
  encoder.buf = buf;
  encoder.offset = length;
  return encoder;
}

/** Zigzag varint of a 32-bit value: the same operations as KafkaJS's `writeVarInt`, hence the same bytes. */
function zigzag32(value: number): number {
  return (value << 1) ^ (value >> 31);
}
function sizeOfUVarInt(value: number): number {
  let bytes = 1;
  while ((value & 0xffffff80) !== 0) {
    bytes++;
    value >>>= 7;
  }
  return bytes;
}
function putUVarInt(buf: Buffer, pos: number, value: number): number {
  while ((value & 0xffffff80) !== 0) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buf[pos++] = value & 0x7f;
  return pos;
}

/**
 * Zigzag of a 64-bit value as an exact non-negative double, for integers whose zigzag stays below 2^53
 * (timestamp deltas always do); other values go to KafkaJS's `Long` path.
 */
const MAX_FAST_VARLONG = 2 ** 51;
function zigzag64(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}
function sizeOfUVarLong(value: number): number {
  let bytes = 1;
  while (value >= 128) {
    bytes++;
    value = Math.floor(value / 128);
  }
  return bytes;
}
function putUVarLong(buf: Buffer, pos: number, value: number): number {
  while (value >= 128) {
    buf[pos++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[pos++] = value;
  return pos;
}

type Bytes = string | Buffer | null | undefined;
const isBytes = (v: unknown): v is Bytes => v == null || typeof v === 'string' || Buffer.isBuffer(v);
const byteLength = (v: string | Buffer) => (typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length);

function putVarIntBytes(buf: Buffer, pos: number, value: Bytes, length: number): number {
  if (value == null) return putUVarInt(buf, pos, zigzag32(-1));
  pos = putUVarInt(buf, pos, zigzag32(length));
  if (typeof value === 'string') buf.write(value, pos, length, 'utf8');
  else buf.set(value, pos);
  return pos + length;
}
function sizeOfVarIntBytes(value: Bytes, length: number): number {
  return value == null ? 1 : sizeOfUVarInt(zigzag32(length)) + length;
}

interface RecordInput {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: unknown;
  value?: unknown;
  headers?: Record<string, unknown>;
}
type RecordEncoder = (record: RecordInput) => KafkaJsEncoder;

/**
 * Drop-in for `kafkajs/src/protocol/recordBatch/record/v0`: one record (length, attributes, timestamp delta,
 * offset delta, key, value, headers) in one buffer of exactly its size. Keys, values and header values that
 * are not strings, Buffers or null, odd headers and timestamp deltas that are not plain integers go to
 * KafkaJS's own encoder (so they throw or encode as they always did).
 */
export function createRecordEncoder(original: RecordEncoder): RecordEncoder {
  return (record) => {
    const { offsetDelta = 0, timestampDelta = 0, key, value, headers = {} } = record;
    if (!isBytes(key) || !isBytes(value) || headers === null || typeof headers !== 'object'
      || !Number.isInteger(timestampDelta) || Math.abs(timestampDelta) >= MAX_FAST_VARLONG) return original(record);
    const headerKeys: string[] = [];
    const headerValues: Array<string | Buffer> = [];
    for (const headerKey of Object.keys(headers)) {
      const v = headers[headerKey];
      if (Array.isArray(v)) {
        for (const item of v) {
          if (typeof item !== 'string' && !Buffer.isBuffer(item)) return original(record);
          headerKeys.push(headerKey);
          headerValues.push(item);
        }
      } else {
        if (typeof v !== 'string' && !Buffer.isBuffer(v)) return original(record);
        headerKeys.push(headerKey);
        headerValues.push(v);
      }
    }
    const keyLength = key == null ? -1 : byteLength(key);
    const valueLength = value == null ? -1 : byteLength(value);
    const headerCount = headerKeys.length;
    const headerKeyLengths = new Array<number>(headerCount);
    const headerValueLengths = new Array<number>(headerCount);
    const timestamp = zigzag64(timestampDelta);
    const offset = zigzag32(offsetDelta);
    let bodySize = 1 + sizeOfUVarLong(timestamp) + sizeOfUVarInt(offset)
      + sizeOfVarIntBytes(key, keyLength) + sizeOfVarIntBytes(value, valueLength) + sizeOfUVarInt(zigzag32(headerCount));
    for (let i = 0; i < headerCount; i++) {
      headerKeyLengths[i] = Buffer.byteLength(headerKeys[i], 'utf8');
      headerValueLengths[i] = byteLength(headerValues[i]);
      bodySize += sizeOfVarIntBytes(headerKeys[i], headerKeyLengths[i]) + sizeOfVarIntBytes(headerValues[i], headerValueLengths[i]);
    }
    const size = sizeOfUVarInt(zigzag32(bodySize)) + bodySize;
    // Every byte is written below, so the pooled, uninitialised allocation is safe.
    const buf = Buffer.allocUnsafe(size);
    let pos = putUVarInt(buf, 0, zigzag32(bodySize));
    buf[pos++] = 0; // attributes: none used
    pos = putUVarLong(buf, pos, timestamp);
    pos = putUVarInt(buf, pos, offset);
    pos = putVarIntBytes(buf, pos, key as Bytes, keyLength);
    pos = putVarIntBytes(buf, pos, value as Bytes, valueLength);
    pos = putUVarInt(buf, pos, zigzag32(headerCount));
    for (let i = 0; i < headerCount; i++) {
      pos = putVarIntBytes(buf, pos, headerKeys[i], headerKeyLengths[i]);
      pos = putVarIntBytes(buf, pos, headerValues[i], headerValueLengths[i]);
    }
    if (pos !== size) throw new Error(`kafkajs-fast-encoding: record size ${pos} !== ${size}`);
    return encoderOf(buf, size);
  };
}

// --- Record batch --------------------------------------------------------------------------------------

interface RecordBatchInput {
  compression?: number;
  firstOffset?: unknown;
  firstTimestamp?: unknown;
  maxTimestamp?: unknown;
  partitionLeaderEpoch?: number;
  lastOffsetDelta?: number;
  transactional?: boolean;
  producerId?: unknown;
  producerEpoch?: number;
  firstSequence?: number;
  records?: unknown[];
}
type RecordBatchEncoder = (batch: RecordBatchInput) => Promise<KafkaJsEncoder>;
interface LongValue { getHighBits(): number; getLowBits(): number }
const Long = require('kafkajs/src/utils/long') as { fromValue(v: unknown): LongValue; fromInt(v: number): LongValue };

const TRANSACTIONAL_MASK = 16;
const COMPRESSION_CODEC_MASK = 0x07;
/** firstOffset 8, length 4, partitionLeaderEpoch 4, magic 1, crc 4 | attributes 2, lastOffsetDelta 4, timestamps 16, producer 8 + 2, sequence 4, count 4. */
const CRC_START = 17;
const BODY_START = 21;
const HEADER_SIZE = 61;

function putInt64(buf: Buffer, pos: number, value: unknown): void {
  const long = Long.fromValue(value); // as KafkaJS's writeInt64, for the same bytes (and errors)
  buf.writeInt32BE(long.getHighBits(), pos);
  buf.writeInt32BE(long.getLowBits(), pos + 4);
}

/**
 * Drop-in for `RecordBatch` of `kafkajs/src/protocol/recordBatch/v0`. Uncompressed batches of encoded
 * records are written into one buffer and checksummed in place; compressed ones go to KafkaJS's own.
 */
export function createRecordBatchEncoder(original: RecordBatchEncoder, crc: (data: Buffer) => number): RecordBatchEncoder {
  return async (batch) => {
    const {
      compression = 0, firstOffset = Long.fromInt(0), firstTimestamp = Date.now(), maxTimestamp = Date.now(),
      partitionLeaderEpoch = 0, lastOffsetDelta = 0, transactional = false, producerId = Long.fromValue(-1),
      producerEpoch = 0, firstSequence = 0, records = [],
    } = batch;
    if (compression !== 0 || !records.every((r) => r instanceof Encoder)) return original(batch);
    const encoded = records as KafkaJsEncoder[];
    let size = HEADER_SIZE;
    for (const r of encoded) size += r.offset;
    const buf = Buffer.allocUnsafe(size);
    putInt64(buf, 0, firstOffset);
    buf.writeInt32BE(size - 12, 8);
    buf.writeInt32BE(partitionLeaderEpoch, 12);
    buf.writeInt8(2, 16); // magic
    buf.writeInt16BE((compression & COMPRESSION_CODEC_MASK) | (transactional ? TRANSACTIONAL_MASK : 0), 21);
    buf.writeInt32BE(lastOffsetDelta, 23);
    putInt64(buf, 27, firstTimestamp);
    putInt64(buf, 35, maxTimestamp);
    putInt64(buf, 43, producerId);
    buf.writeInt16BE(producerEpoch, 51);
    buf.writeInt32BE(firstSequence, 53);
    buf.writeInt32BE(encoded.length, 57);
    let pos = HEADER_SIZE;
    for (const r of encoded) {
      buf.set(r.offset === r.buf.length ? r.buf : r.buf.subarray(0, r.offset), pos);
      pos += r.offset;
    }
    buf.writeUInt32BE(crc(buf.subarray(BODY_START, size)), CRC_START);
    return encoderOf(buf, size);
  };
}

// --- Partitioning -------------------------------------------------------------------------------------

interface PartitionArgs {
  topic: string;
  partitionMetadata: Array<{ partitionId: number; leader: number }>;
  message: { key?: Buffer | string | null; partition?: number | null };
}
type Partitioner = (args: PartitionArgs) => number;

/**
 * Drop-in for `kafkajs/src/producer/groupMessagesPerPartition`: the same `{ [partition]: messages in order }`,
 * but KafkaJS copies the partition's array for every message (`[...current, message]`), quadratic in the
 * batch: 5.8 % of ingest's CPU under batch load, before anything was encoded.
 */
export function groupMessagesPerPartition(args: { topic: string; partitionMetadata: PartitionArgs['partitionMetadata']; messages: Array<PartitionArgs['message']>; partitioner: Partitioner }): Record<number, Array<PartitionArgs['message']>> {
  const { topic, partitionMetadata, messages, partitioner } = args;
  const result: Record<number, Array<PartitionArgs['message']>> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
}

/**
 * KafkaJS's DefaultPartitioner (Java-compatible: `toPositive(murmur2(key)) % partitions` for a keyed record),
 * without its per-record scan of the partition list for available leaders, which only unkeyed records use:
 * those, and records with an explicit partition, go to KafkaJS's own partitioner unchanged.
 */
export function createKeyHashPartitioner(fallback: () => Partitioner): () => Partitioner {
  return () => {
    const unkeyed = fallback();
    return (args) => {
      const { message, partitionMetadata } = args;
      if ((message.partition === null || message.partition === undefined) && message.key !== null && message.key !== undefined) {
        return (murmur2(message.key) & 0x7fffffff) % partitionMetadata.length;
      }
      return unkeyed(args);
    };
  };
}

// --- Installation --------------------------------------------------------------------------------------

const INSTALLED: unique symbol = Symbol.for('streamguard.kafkajs-fast-encoding') as never;

/** Puts `exports` in place of the KafkaJS module `id`, for modules that KafkaJS loads after this. */
function replaceModule(id: string, exports: unknown): void {
  const path = require.resolve(id);
  const Module = require('node:module') as { new (id: string): NodeJS.Module };
  const replacement = new Module(path);
  replacement.filename = path;
  replacement.loaded = true;
  replacement.exports = exports;
  require.cache[path] = replacement;
}

function install(): void {
  const crcId = 'kafkajs/src/protocol/recordBatch/crc32C';
  if ((require.cache[require.resolve(crcId)]?.exports as { [INSTALLED]?: boolean } | undefined)?.[INSTALLED]) return;
  const crcExport = Object.assign((data: Buffer) => crc32c(data), { [INSTALLED]: true });
  // The CRC first: KafkaJS's record batch module, loaded just below for compressed batches, binds it.
  replaceModule(crcId, crcExport);
  replaceModule('kafkajs/src/producer/partitioners/default/murmur2', murmur2);
  replaceModule('kafkajs/src/producer/groupMessagesPerPartition', groupMessagesPerPartition);
  const recordId = 'kafkajs/src/protocol/recordBatch/record/v0';
  replaceModule(recordId, createRecordEncoder(require(recordId) as RecordEncoder));
  const batchId = 'kafkajs/src/protocol/recordBatch/v0';
  const batchModule = require(batchId) as { RecordBatch: RecordBatchEncoder; MAGIC_BYTE: number };
  replaceModule(batchId, { ...batchModule, RecordBatch: createRecordBatchEncoder(batchModule.RecordBatch, crcExport) });
}

install();
