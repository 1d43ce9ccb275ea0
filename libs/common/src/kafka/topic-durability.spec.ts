import { defaultMinInsyncReplicas, durabilityConfig } from './topic-durability';

describe('topic durability', () => {
  it('asks for two in-sync replicas from a replication factor of 3, one below', () => {
    expect([1, 2, 3, 4, 5].map(defaultMinInsyncReplicas)).toEqual([1, 1, 2, 2, 2]);
  });

  it('sets min.insync.replicas explicitly, defaulted or given', () => {
    expect(durabilityConfig(1)).toEqual({ 'min.insync.replicas': '1' });
    expect(durabilityConfig(3)).toEqual({ 'min.insync.replicas': '2' });
    expect(durabilityConfig(5, 3)).toEqual({ 'min.insync.replicas': '3' });
  });

  it('refuses a value no write could satisfy, saying what to change', () => {
    expect(() => durabilityConfig(1, 2)).toThrow('min.insync.replicas 2 is above the replication factor 1: every acks=all write would fail; lower it or add replicas');
    expect(() => durabilityConfig(3, 0)).toThrow('at least 1');
  });
});
