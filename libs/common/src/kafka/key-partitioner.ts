/**
 * Which partition a keyed record goes to: murmur2 of the key's UTF-8 bytes, made positive, modulo the
 * partition count — the Java client's default partitioner, and librdkafka's `murmur2_random`, which our
 * producers use. Tools and tests need it to place one record on each partition (barriers) or to predict
 * where a key lands; the services never call it (the client partitions by itself).
 */
export function partitionForKey(key: string, partitionCount: number): number {
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitionCount;
}

/**
 * Kafka's `Utils.murmur2` (seed 0x9747b28c), as a signed 32-bit integer. The Java code works on `int`s, so
 * Math.imul and 32-bit shifts reproduce it exactly.
 */
export function murmur2(data: Uint8Array): number {
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
