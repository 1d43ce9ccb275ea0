import { chunkBySize } from './kafkajs-client';

describe('chunkBySize', () => {
  const record = (bytes: number, key: string | null = null) => ({ topic: 't', key, value: 'x'.repeat(bytes) });

  it('keeps order and never exceeds the limit unless one record alone does', () => {
    const records = [record(300), record(300), record(300), record(1000), record(10)];
    const chunks = chunkBySize(records, 800); // 300 bytes + 64 overhead each: two fit, three do not
    expect(chunks.map((c) => c.map((r) => r.value.length))).toEqual([[300, 300], [300], [1000], [10]]);
    expect(chunks.flat()).toEqual(records);
  });

  it('counts keys and per-record overhead', () => {
    expect(chunkBySize([record(100, 'k'.repeat(100)), record(100, 'k'.repeat(100))], 400)).toHaveLength(2);
  });

  it('counts header names and values (a DLQ copy can carry large original headers)', () => {
    const withHeaders = { ...record(100), headers: { h: 'v'.repeat(200) } };
    expect(chunkBySize([withHeaders, withHeaders], 500)).toHaveLength(2); // 100 + 64 + 201 each: two do not fit
    expect(chunkBySize([record(100), record(100)], 500)).toHaveLength(1);
  });

  it('returns nothing for nothing', () => {
    expect(chunkBySize([])).toEqual([]);
  });
});
