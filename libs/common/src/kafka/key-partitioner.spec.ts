import { murmur2, partitionForKey } from './key-partitioner';

describe('murmur2', () => {
  // The expected values are Apache Kafka's own (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java,
  // testMurmur2): an independent oracle for the Java client's hash. That our producers agree with it on a real
  // broker is checked by test/key-partitioning.int.spec.ts.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('hashes %j as Kafka does', (key, expected) => {
    expect(murmur2(Buffer.from(key))).toBe(expected);
  });
});

describe('partitionForKey', () => {
  it('is the positive hash modulo the partition count', () => {
    expect(partitionForKey('21', 3)).toBe((-973932308 & 0x7fffffff) % 3);
    expect(partitionForKey('foobar', 6)).toBe((-790332482 & 0x7fffffff) % 6);
  });

  it('always lands in range', () => {
    for (let i = 0; i < 1000; i++) {
      const p = partitionForKey(`account-${i}`, 7);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(7);
    }
  });
});
